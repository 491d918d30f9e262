namespace SharpLM.Tokenization;

public enum BpeTrainingPhase
{
    /// <summary>Reading the corpus and counting pre-tokens; progress in bytes.</summary>
    PreTokenizing,

    /// <summary>Learning merges; progress in merges.</summary>
    Merging,
}

/// <summary>How far <see cref="BpeTrainer.Train"/> has got: <see cref="Done"/> of <see cref="Total"/> in the phase's unit.</summary>
public readonly record struct BpeTrainingProgress(BpeTrainingPhase Phase, long Done, long Total);
