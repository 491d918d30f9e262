using SharpLM.Training;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Bench.Suites;

/// <summary>
/// AdamW step on the TinyStories parameter set: our fused and reference kernels vs TorchSharp's
/// optim.AdamW, each on its own copy of the same parameters and gradients, all run the same number of steps.
/// </summary>
public static class OptimizerBenchmarks
{
    const double Lr = 1e-3, Beta1 = 0.9, Beta2 = 0.95, Eps = 1e-8, WeightDecay = 0.1;
    const int Warmup = 3, Iterations = 15;

    public static void Run()
    {
        var device = CPU;
        var contenders = new List<(string Name, List<Parameter> Parameters, optim.Optimizer Optimizer)>();
        foreach (var (name, kernel) in AdamWKernels.ByName)
        {
            var parameters = TinyStoriesParameters.Create(seed: 1, device);
            contenders.Add((name, parameters, new SharpLM.Training.AdamW(parameters, Lr, Beta1, Beta2, Eps, WeightDecay) { Kernel = kernel }));
        }
        var builtInParameters = TinyStoriesParameters.Create(seed: 1, device);
        contenders.Add(("TorchSharp", builtInParameters,
            new TorchSharp.Modules.AdamW(builtInParameters, Lr, Beta1, Beta2, Eps, WeightDecay)));

        Measurement[] times = Timing.Interleaved(Warmup, Iterations,
            contenders.Select(c => (Action)(() => c.Optimizer.step())).ToArray());

        var reference = contenders.Single(c => c.Name == "reference").Parameters;
        long count = builtInParameters.Sum(p => p.numel());
        var table = new ComparisonTable();
        for (int i = 0; i < contenders.Count - 1; i++)
        {
            var (name, parameters, _) = contenders[i];
            string check = $"after {Warmup + Iterations} steps: max |Δθ| vs reference {MaxDifference(parameters, reference):g2}, " +
                $"vs TorchSharp {MaxDifference(parameters, builtInParameters, minimumGradient: 1e-3):g2} where |g| ≥ 1e-3";
            table.Add($"AdamW step, {count:N0} params in {builtInParameters.Count} tensors", name, times[i],
                "optim.AdamW", times[^1], minimumSpeedup: name == "fused" ? 4 : null, check);
        }
        table.Print(Console.Out);
        Console.WriteLine();
        PrintRoofline(count, times[contenders.FindIndex(c => c.Name == "fused")], times[^1]);
        foreach (var (_, parameters, optimizer) in contenders)
        {
            optimizer.Dispose();
            parameters.ForEach(p => p.Dispose());
        }
    }

    /// <summary>
    /// Both steps stream memory, so bandwidth bounds them: the fused pass moves 28 bytes per parameter (reads
    /// θ, g, m, v; writes θ, m, v), TorchSharp's nine tensor ops 88 (8 each for θ·(1−αλ), m·β₁, v·β₂, √v, ÷√(1−β₂ᵗ)
    /// and +ε; 12 each for m += (1−β₁)g and v += (1−β₂)g²; 16 for the addcdiv) plus two fresh √v temporaries.
    /// </summary>
    static void PrintRoofline(long parameterCount, Measurement fused, Measurement builtIn)
    {
        double read = MemoryBandwidth.ReadGigabytesPerSecond();
        static string Rate(double bytes, Measurement time) =>
            (bytes / (time.BestMilliseconds * 1e-3) / 1e9).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
        string readText = read.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
        MarkdownTable.Print(Console.Out, ["AdamW step", "bytes moved per parameter", "GB/s at best time", "machine read bandwidth, GB/s"],
        [
            ["fused", "28", Rate(28.0 * parameterCount, fused), readText],
            ["optim.AdamW", "88 + two temporaries", Rate(88.0 * parameterCount, builtIn), readText],
        ]);
    }

    /// <summary>
    /// Largest |θ − θ'|, optionally only where |g| ≥ <paramref name="minimumGradient"/>: the handout's αₜ carries
    /// √(1−β₂ᵗ) outside ε where PyTorch's AdamW divides √v by it inside, so the two differ where |g| is within a
    /// few ε of zero, and decay θ after the Adam update where PyTorch decays it before.
    /// </summary>
    static double MaxDifference(List<Parameter> actual, List<Parameter> expected, double minimumGradient = 0)
    {
        using var scope = NewDisposeScope();
        using var threshold = minimumGradient.ToScalar(); // held: see SharpLM.Numerics.Scalars
        return actual.Zip(expected).Max(pair =>
            ((pair.First - pair.Second).abs() * pair.First.grad!.abs().ge(threshold)).max().item<float>());
    }
}
