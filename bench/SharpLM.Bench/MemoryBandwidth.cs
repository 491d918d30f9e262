using System.Numerics;
using System.Runtime.InteropServices;

namespace SharpLM.Bench;

/// <summary>
/// What the machine's memory delivers to all cores reading at once: the roofline a streaming kernel (such as
/// the fused AdamW step) cannot beat, measured in the same run because the machine is shared.
/// </summary>
public static class MemoryBandwidth
{
    /// <summary>Best GB/s of a threaded SIMD sum over 512 MB, far beyond any cache.</summary>
    public static double ReadGigabytesPerSecond(int iterations = 7)
    {
        const int Count = 128 << 20, Chunk = 1 << 15;
        var data = GC.AllocateUninitializedArray<float>(Count, pinned: true);
        data.AsSpan().Fill(1f);
        double sink = 0;
        var times = Timing.Interleaved(warmup: 1, iterations, () =>
        {
            var partials = new double[Count / Chunk];
            Parallel.For(0, Count / Chunk, c =>
            {
                var sum = Vector<float>.Zero;
                foreach (var vector in MemoryMarshal.Cast<float, Vector<float>>(data.AsSpan(c * Chunk, Chunk)))
                {
                    sum += vector;
                }
                partials[c] = Vector.Sum(sum);
            });
            sink += partials.Sum(); // keeps the reads observable
        });
        GC.KeepAlive(sink);
        return Count * (double)sizeof(float) / (times[0].BestMilliseconds * 1e-3) / 1e9;
    }
}
