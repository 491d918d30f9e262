namespace SharpLM.Tokenization;

/// <summary>
/// Hashes a pair of token ids packed into a long as (left &lt;&lt; 32) | right. long's own hash is left ^ right,
/// which maps (a, b), (b, a) and every pair with the same XOR to one bucket; with token ids in the tens of
/// thousands, dictionaries of pairs then degrade into long chains. A Fibonacci multiply spreads them.
/// </summary>
internal sealed class PairKeyComparer : IEqualityComparer<long>
{
    public static PairKeyComparer Instance { get; } = new();

    public bool Equals(long x, long y) => x == y;

    public int GetHashCode(long obj) => (int)(((ulong)obj * 0x9E3779B97F4A7C15UL) >> 32);
}
