using SharpLM.Training;

namespace SharpLM.Tests.Training;

/// <summary>The small real-data run the training tests share: a 235K-parameter model on the TinyStories sample in ../shared/data.</summary>
internal static class TinyStoriesSample
{
    /// <summary>Evaluates (20 batches) and checkpoints once, at the end of <paramref name="steps"/> steps.</summary>
    public static TrainingConfig Config(string runDirectory, long steps) => new()
    {
        Train = SharedData.Path("tinystories", "tinystories_v1_train_head_2MiB.txt"),
        Val = SharedData.Path("tinystories", "tinystories_v1_valid_hf_head.txt"),
        VocabSize = 1000,
        ContextLength = 64,
        DModel = 64,
        NumLayers = 2,
        NumHeads = 4,
        DFf = 192,
        BatchSize = 16,
        Steps = steps,
        WarmupIters = 20,
        MaxLearningRate = 5e-3,
        MinLearningRate = 5e-4,
        EvalInterval = (int)steps,
        EvalBatches = 20,
        CheckpointInterval = (int)steps,
        RunDirectory = runDirectory,
    };
}
