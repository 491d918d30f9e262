using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace SharpLM.Tokenization;

/// <summary>
/// Learns merges with pair counts that are updated, not recounted (the speed-up the handout suggests after
/// §2.4's example): an index from each pair to the pre-tokens containing it limits a merge to the pre-tokens it
/// touches, and a heap ordered by (count, tie-break) finds the next pair. Heap entries are never updated in
/// place; a changed count pushes a new entry and the stale one is skipped when it surfaces.
/// </summary>
internal sealed class IncrementalMergeLearner : IMergeLearner
{
    public BpeTrainingResult Learn(IReadOnlyDictionary<string, long> preTokenCounts, int vocabSize, IReadOnlyList<string> specialTokens,
        IProgress<BpeTrainingProgress>? progress, CancellationToken cancellationToken)
    {
        var vocabulary = new TrainingVocabulary(specialTokens);
        int initialCount = vocabulary.Count;
        var words = new Words(preTokenCounts);

        var pairCounts = new Dictionary<long, long>(PairKeyComparer.Instance);
        var pairWords = new Dictionary<long, List<int>>(PairKeyComparer.Instance);
        for (int word = 0; word < words.Count; word++)
        {
            Span<int> symbols = words.Symbols(word);
            for (int i = 0; i + 1 < symbols.Length; i++)
            {
                long pair = Pair(symbols[i], symbols[i + 1]);
                CollectionsMarshal.GetValueRefOrAddDefault(pairCounts, pair, out _) += words.Counts[word];
                AddWord(pairWords, pair, word);
            }
        }
        var comparer = new PriorityComparer(vocabulary);
        var queue = new PriorityQueue<long, Priority>(pairCounts.Select(entry => (entry.Key, new Priority(entry.Value, entry.Key))), comparer);

        var deltas = new Dictionary<long, long>(PairKeyComparer.Instance);
        var lastMergeOfWord = new int[words.Count];
        Array.Fill(lastMergeOfWord, -1);
        while (vocabulary.Count < vocabSize && TryDequeueBest(queue, pairCounts, out long best))
        {
            cancellationToken.ThrowIfCancellationRequested();
            int mergeIndex = vocabulary.MergeCount;
            int left = Left(best), right = Right(best);
            int merged = vocabulary.Merge(left, right);
            foreach (int word in pairWords[best])
            {
                // A word enters a pair's list once per occurrence created; merge it once.
                if (lastMergeOfWord[word] != mergeIndex)
                {
                    lastMergeOfWord[word] = mergeIndex;
                    MergeInWord(words, word, left, right, merged, deltas, pairWords);
                }
            }
            // (left, right) cannot form again: every new neighbour pair contains the new, longer token.
            pairCounts.Remove(best);
            pairWords.Remove(best);
            foreach (var (pair, delta) in deltas)
            {
                if (delta == 0 || pair == best)
                {
                    continue;
                }
                long count = pairCounts.GetValueOrDefault(pair) + delta;
                Debug.Assert(count >= 0, "a pair count went negative");
                if (count > 0)
                {
                    pairCounts[pair] = count;
                    queue.Enqueue(pair, new Priority(count, pair));
                }
                else
                {
                    pairCounts.Remove(pair);
                    pairWords.Remove(pair);
                }
            }
            deltas.Clear();
            if (progress is not null && (mergeIndex & 63) == 0)
            {
                progress.Report(new BpeTrainingProgress(BpeTrainingPhase.Merging, vocabulary.Count - initialCount, vocabSize - initialCount));
            }
        }
        progress?.Report(new BpeTrainingProgress(BpeTrainingPhase.Merging, vocabSize - initialCount, vocabSize - initialCount));
        return vocabulary.ToResult();
    }

    /// <summary>
    /// Replaces (left, right) by merged in one word, left to right, and records how the neighbouring pairs change.
    /// The neighbour on the left is read after earlier replacements, so "a b a b" correctly yields (ab, ab).
    /// </summary>
    static void MergeInWord(Words words, int word, int left, int right, int merged, Dictionary<long, long> deltas, Dictionary<long, List<int>> pairWords)
    {
        Span<int> symbols = words.Symbols(word);
        long count = words.Counts[word];
        int write = 0;
        int read = 0;
        while (read < symbols.Length)
        {
            if (read + 1 < symbols.Length && symbols[read] == left && symbols[read + 1] == right)
            {
                if (write > 0)
                {
                    int before = symbols[write - 1];
                    CollectionsMarshal.GetValueRefOrAddDefault(deltas, Pair(before, left), out _) -= count;
                    CollectionsMarshal.GetValueRefOrAddDefault(deltas, Pair(before, merged), out _) += count;
                    AddWord(pairWords, Pair(before, merged), word);
                }
                if (read + 2 < symbols.Length)
                {
                    int after = symbols[read + 2];
                    CollectionsMarshal.GetValueRefOrAddDefault(deltas, Pair(right, after), out _) -= count;
                    CollectionsMarshal.GetValueRefOrAddDefault(deltas, Pair(merged, after), out _) += count;
                    AddWord(pairWords, Pair(merged, after), word);
                }
                symbols[write++] = merged;
                read += 2;
            }
            else
            {
                symbols[write++] = symbols[read++];
            }
        }
        words.SetLength(word, write);
    }

    static bool TryDequeueBest(PriorityQueue<long, Priority> queue, Dictionary<long, long> pairCounts, out long pair)
    {
        while (queue.TryDequeue(out pair, out Priority priority))
        {
            if (pairCounts.TryGetValue(pair, out long count) && count == priority.Count)
            {
                return true;
            }
        }
        return false;
    }

    static void AddWord(Dictionary<long, List<int>> pairWords, long pair, int word)
    {
        ref List<int>? list = ref CollectionsMarshal.GetValueRefOrAddDefault(pairWords, pair, out _);
        list ??= [];
        list.Add(word);
    }

    static long Pair(int left, int right) => ((long)left << 32) | (uint)right;

    static int Left(long pair) => (int)(pair >> 32);

    static int Right(long pair) => (int)pair;

    readonly record struct Priority(long Count, long Pair);

    /// <summary>Dequeues the most frequent pair first, and among equals the lexicographically greatest.</summary>
    sealed class PriorityComparer(TrainingVocabulary vocabulary) : IComparer<Priority>
    {
        public int Compare(Priority x, Priority y) => x.Count != y.Count
            ? y.Count.CompareTo(x.Count)
            : vocabulary.ComparePairs(Left(y.Pair), Right(y.Pair), Left(x.Pair), Right(x.Pair));
    }

    /// <summary>The distinct pre-tokens as symbol sequences in one flat array, each with its count in the corpus.</summary>
    sealed class Words
    {
        readonly int[] _symbols;
        readonly int[] _start;
        readonly int[] _length;

        public Words(IReadOnlyDictionary<string, long> preTokenCounts)
        {
            Count = preTokenCounts.Count;
            Counts = new long[Count];
            _start = new int[Count];
            _length = new int[Count];
            long total = 0;
            foreach (string preToken in preTokenCounts.Keys)
            {
                total += Encoding.UTF8.GetByteCount(preToken);
            }
            _symbols = new int[checked((int)total)];
            int word = 0;
            int offset = 0;
            byte[] buffer = [];
            foreach (var (preToken, count) in preTokenCounts)
            {
                int byteCount = Encoding.UTF8.GetByteCount(preToken);
                if (buffer.Length < byteCount)
                {
                    buffer = new byte[Math.Max(byteCount, buffer.Length * 2)];
                }
                Encoding.UTF8.GetBytes(preToken, buffer);
                for (int i = 0; i < byteCount; i++)
                {
                    _symbols[offset + i] = buffer[i];
                }
                Counts[word] = count;
                _start[word] = offset;
                _length[word] = byteCount;
                offset += byteCount;
                word++;
            }
        }

        public int Count { get; }

        public long[] Counts { get; }

        public Span<int> Symbols(int word) => _symbols.AsSpan(_start[word], _length[word]);

        public void SetLength(int word, int length) => _length[word] = length;
    }
}
