using System.Globalization;
using static TorchSharp.torch;

namespace SharpLM.Bench.Suites;

/// <summary>float32 and bfloat16 matmul throughput at the sizes <see cref="MatmulPeak"/> tries; the best of each is a denominator of MFU.</summary>
public static class MatmulPeakBenchmarks
{
    public static void Run()
    {
        var rows = new List<IReadOnlyList<string>>();
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            double peak = 0;
            foreach (int size in MatmulPeak.Sizes)
            {
                double gflops = MatmulPeak.GigaflopsPerSecond(CPU, size, dtype);
                peak = Math.Max(peak, gflops);
                rows.Add([$"{size}×{size} · {size}×{size} {dtype} matmul", "cpu", gflops.ToString("0.0", CultureInfo.InvariantCulture)]);
            }
            rows.Add([$"{dtype} peak (best of the above)", "cpu", peak.ToString("0.0", CultureInfo.InvariantCulture)]);
        }
        MarkdownTable.Print(Console.Out, ["benchmark", "device", "GFLOP/s"], rows);
    }
}
