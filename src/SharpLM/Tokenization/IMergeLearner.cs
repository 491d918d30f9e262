namespace SharpLM.Tokenization;

/// <summary>
/// Learns BPE merges from pre-token counts until the vocabulary has <c>vocabSize</c> tokens or no pair is left.
/// Implementations must give identical results; <see cref="MergeLearners"/> names them for tests and benchmarks.
/// </summary>
internal interface IMergeLearner
{
    BpeTrainingResult Learn(IReadOnlyDictionary<string, long> preTokenCounts, int vocabSize, IReadOnlyList<string> specialTokens,
        IProgress<BpeTrainingProgress>? progress, CancellationToken cancellationToken);
}

/// <summary>The merge learners by name: "reference" is the handout's algorithm as written, the others must equal it.</summary>
internal static class MergeLearners
{
    public static IReadOnlyDictionary<string, Func<IMergeLearner>> ByName { get; } = new Dictionary<string, Func<IMergeLearner>>
    {
        ["reference"] = () => new NaiveMergeLearner(),
        ["incremental"] = () => new IncrementalMergeLearner(),
    };
}
