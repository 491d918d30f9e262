using SharpLM.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Bench.Suites;

/// <summary>Global gradient-norm clipping over the TinyStories parameter set, ours vs nn.utils.clip_grad_norm_.</summary>
public static class ClippingBenchmarks
{
    const double MaxNorm = 1.0;
    const int Warmup = 3, Iterations = 15;

    public static void Run()
    {
        var device = CPU;
        var original = TinyStoriesParameters.Create(seed: 3, device);
        var ours = TinyStoriesParameters.Create(seed: 3, device);
        var theirs = TinyStoriesParameters.Create(seed: 3, device);
        double ourNorm = 0, theirNorm = 0;
        // Restore the unclipped gradients before every run (untimed), so every run clips.
        Measurement[] times = Timing.Interleaved(Warmup, Iterations,
            new Contender(() => ourNorm = GradientClipping.ClipGradNorm(ours, MaxNorm), () => Restore(ours, original)),
            new Contender(() => theirNorm = nn.utils.clip_grad_norm_(theirs, MaxNorm), () => Restore(theirs, original)));
        double gradientDifference;
        using (var scope = NewDisposeScope())
        {
            gradientDifference = ours.Zip(theirs).Max(pair => (pair.First.grad! - pair.Second.grad!).abs().max().item<float>());
        }
        var table = new ComparisonTable();
        table.Add($"clip grad norm, {original.Sum(p => p.numel()):N0} params in {original.Count} tensors", "ours", times[0],
            "nn.utils.clip_grad_norm_", times[1], minimumSpeedup: null,
            $"norm {ourNorm:g6} vs {theirNorm:g6}, max |Δgrad| {gradientDifference:g2}");
        table.Print(Console.Out);
        foreach (var parameter in original.Concat(ours).Concat(theirs))
        {
            parameter.Dispose();
        }
    }

    static void Restore(List<Parameter> parameters, List<Parameter> original)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var (parameter, source) in parameters.Zip(original))
        {
            parameter.grad!.copy_(source.grad!);
        }
    }
}
