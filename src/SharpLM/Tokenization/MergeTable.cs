namespace SharpLM.Tokenization;

/// <summary>
/// The ranked merges of a tokenizer, applied to one pre-token (handout §2.6.1): repeatedly merge the adjacent
/// pair that was learned first, leftmost first among equals, until no learned pair is left. This gives the same
/// tokens as applying every merge in order of creation. Two implementations of the same rule: a scan that is
/// fastest for short pre-tokens and a heap over a linked list for long ones, where the scan is quadratic.
/// </summary>
internal sealed class MergeTable
{
    /// <summary>Pre-tokens up to this many bytes use the scan.</summary>
    internal const int ScanLimit = 256;

    const int NoRank = int.MaxValue;

    readonly Dictionary<long, int> _rankOfPair;
    readonly int[] _resultOfRank;

    /// <param name="merges">(left id, right id, merged id) in order of creation.</param>
    public MergeTable(IReadOnlyList<(int Left, int Right, int Result)> merges)
    {
        _rankOfPair = new Dictionary<long, int>(merges.Count, PairKeyComparer.Instance);
        _resultOfRank = new int[merges.Count];
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right, result) = merges[rank];
            // A repeated pair keeps its first rank; the later copy could never apply.
            _rankOfPair.TryAdd(Key(left, right), rank);
            _resultOfRank[rank] = result;
        }
    }

    public int Count => _resultOfRank.Length;

    static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    int RankOf(int left, int right) => _rankOfPair.TryGetValue(Key(left, right), out int rank) ? rank : NoRank;

    /// <summary>Merges <paramref name="symbols"/> in place; returns how many symbols remain at its start.</summary>
    public int Apply(Span<int> symbols) => symbols.Length <= ScanLimit ? ApplyByScanning(symbols) : ApplyWithHeap(symbols);

    internal int ApplyByScanning(Span<int> symbols)
    {
        int n = symbols.Length;
        if (n < 2)
        {
            return n;
        }
        // ranks[i] is the rank of (symbols[i], symbols[i + 1]); a merge only changes its two neighbours.
        Span<int> ranks = n <= ScanLimit ? stackalloc int[n] : new int[n];
        for (int i = 0; i < n - 1; i++)
        {
            ranks[i] = RankOf(symbols[i], symbols[i + 1]);
        }
        while (n > 1)
        {
            int best = 0;
            for (int i = 1; i < n - 1; i++)
            {
                if (ranks[i] < ranks[best])
                {
                    best = i;
                }
            }
            int rank = ranks[best];
            if (rank == NoRank)
            {
                break;
            }
            symbols[best] = _resultOfRank[rank];
            symbols[(best + 2)..n].CopyTo(symbols[(best + 1)..]);
            ranks[(best + 1)..(n - 1)].CopyTo(ranks[best..]);
            n--;
            if (best > 0)
            {
                ranks[best - 1] = RankOf(symbols[best - 1], symbols[best]);
            }
            if (best < n - 1)
            {
                ranks[best] = RankOf(symbols[best], symbols[best + 1]);
            }
        }
        return n;
    }

    internal int ApplyWithHeap(Span<int> symbols)
    {
        const int Removed = -1;
        int n = symbols.Length;
        var previous = new int[n];
        var next = new int[n];
        // Priority: rank, then position, so equal pairs merge left to right as in the scan.
        var queue = new PriorityQueue<int, long>(n);
        for (int i = 0; i < n; i++)
        {
            previous[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : Removed;
            if (i + 1 < n && RankOf(symbols[i], symbols[i + 1]) is var rank && rank != NoRank)
            {
                queue.Enqueue(i, Priority(rank, i));
            }
        }
        while (queue.TryDequeue(out int at, out long priority))
        {
            int right = next[at];
            int rank = (int)(priority >> 32);
            // Entries go stale when a neighbour merged since; the current pair then has another rank.
            if (symbols[at] == Removed || right == Removed || RankOf(symbols[at], symbols[right]) != rank)
            {
                continue;
            }
            symbols[at] = _resultOfRank[rank];
            symbols[right] = Removed;
            next[at] = next[right];
            if (next[at] != Removed)
            {
                previous[next[at]] = at;
            }
            if (previous[at] >= 0 && RankOf(symbols[previous[at]], symbols[at]) is var leftRank && leftRank != NoRank)
            {
                queue.Enqueue(previous[at], Priority(leftRank, previous[at]));
            }
            if (next[at] != Removed && RankOf(symbols[at], symbols[next[at]]) is var rightRank && rightRank != NoRank)
            {
                queue.Enqueue(at, Priority(rightRank, at));
            }
        }
        int count = 0;
        foreach (int symbol in symbols)
        {
            if (symbol != Removed)
            {
                symbols[count++] = symbol;
            }
        }
        return count;
    }

    static long Priority(int rank, int position) => ((long)rank << 32) | (uint)position;
}
