using System.Globalization;
using static TorchSharp.torch;

namespace SharpLM.Bench.Suites;

/// <summary>fp32 matmul throughput at the sizes <see cref="MatmulPeak"/> tries; the best is the denominator of MFU.</summary>
public static class MatmulPeakBenchmarks
{
    public static void Run()
    {
        var rows = new List<IReadOnlyList<string>>();
        double peak = 0;
        foreach (int size in MatmulPeak.Sizes)
        {
            double gflops = MatmulPeak.GigaflopsPerSecond(CPU, size);
            peak = Math.Max(peak, gflops);
            rows.Add([$"{size}×{size} · {size}×{size} float32 matmul", "cpu", gflops.ToString("0.0", CultureInfo.InvariantCulture)]);
        }
        rows.Add(["peak (best of the above)", "cpu", peak.ToString("0.0", CultureInfo.InvariantCulture)]);
        MarkdownTable.Print(Console.Out, ["benchmark", "device", "GFLOP/s"], rows);
    }
}
