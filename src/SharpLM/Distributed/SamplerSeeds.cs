namespace SharpLM.Distributed;

/// <summary>The seed of each rank's batch sampler, derived from the run's seed and the rank.</summary>
public static class SamplerSeeds
{
    /// <summary>
    /// Rank 0 keeps the stream a single process uses (seed + 1), so a job of one equals a plain run; the other ranks
    /// get SplitMix64 of (seed + 1, rank), well apart from each other and from rank 0's.
    /// </summary>
    public static ulong For(long seed, int rank)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ulong single = (ulong)seed + 1;
        return rank == 0 ? single : SplitMix64(single + (ulong)rank * 0x9E3779B97F4A7C15UL);
    }

    static ulong SplitMix64(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
