using System.Text;

namespace SharpLM.Tokenization;

/// <summary>
/// The reference: the handout's algorithm as written (§2.4), recounting every pair of every pre-token before each
/// merge. Quadratic, kept to check <see cref="IncrementalMergeLearner"/> and to show what it saves.
/// </summary>
internal sealed class NaiveMergeLearner : IMergeLearner
{
    public BpeTrainingResult Learn(IReadOnlyDictionary<string, long> preTokenCounts, int vocabSize, IReadOnlyList<string> specialTokens,
        IProgress<BpeTrainingProgress>? progress, CancellationToken cancellationToken)
    {
        var vocabulary = new TrainingVocabulary(specialTokens);
        int initialCount = vocabulary.Count;
        var words = preTokenCounts.Select(entry => (Symbols: Encoding.UTF8.GetBytes(entry.Key).Select(b => (int)b).ToList(), Count: entry.Value)).ToList();
        while (vocabulary.Count < vocabSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var pairCounts = new Dictionary<(int Left, int Right), long>();
            foreach (var (symbols, count) in words)
            {
                for (int i = 0; i + 1 < symbols.Count; i++)
                {
                    pairCounts[(symbols[i], symbols[i + 1])] = pairCounts.GetValueOrDefault((symbols[i], symbols[i + 1])) + count;
                }
            }
            if (pairCounts.Count == 0)
            {
                break;
            }
            var best = pairCounts.First();
            foreach (var candidate in pairCounts)
            {
                if (candidate.Value > best.Value || (candidate.Value == best.Value
                    && vocabulary.ComparePairs(candidate.Key.Left, candidate.Key.Right, best.Key.Left, best.Key.Right) > 0))
                {
                    best = candidate;
                }
            }
            var (left, right) = best.Key;
            int merged = vocabulary.Merge(left, right);
            foreach (var (symbols, _) in words)
            {
                for (int i = 0; i + 1 < symbols.Count; i++)
                {
                    if (symbols[i] == left && symbols[i + 1] == right)
                    {
                        symbols[i] = merged;
                        symbols.RemoveAt(i + 1);
                    }
                }
            }
            progress?.Report(new BpeTrainingProgress(BpeTrainingPhase.Merging, vocabulary.Count - initialCount, vocabSize - initialCount));
        }
        return vocabulary.ToResult();
    }
}
