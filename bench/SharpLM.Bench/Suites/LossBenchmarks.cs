using SharpLM.Training;
using static TorchSharp.torch;

namespace SharpLM.Bench.Suites;

/// <summary>Cross-entropy forward and backward on a tinystories-sized batch of logits, ours vs functional.cross_entropy.</summary>
public static class LossBenchmarks
{
    const int TokenCount = 8192, VocabularySize = 10_000;
    const int Warmup = 2, Iterations = 11;

    public static void Run()
    {
        var device = CPU;
        using var generator = new Generator(2, device);
        using var logits = randn([TokenCount, VocabularySize], generator: generator, device: device).requires_grad_(true); // (N, V)
        using var targets = randint(VocabularySize, [TokenCount], generator: generator, dtype: ScalarType.Int64, device: device); // (N)

        var table = new ComparisonTable();
        (double BuiltInLoss, Tensor BuiltInGradient) = ForwardBackward(logits, l => nn.functional.cross_entropy(l, targets));
        foreach (var (name, kernel) in CrossEntropyKernels.ByName)
        {
            Func<Tensor, Tensor> loss = l => Losses.CrossEntropy(l, targets, kernel);
            double[] milliseconds = Timing.InterleavedMedianMilliseconds(Warmup, Iterations,
                () => ForwardBackward(logits, loss).Gradient.Dispose(),
                () => ForwardBackward(logits, l => nn.functional.cross_entropy(l, targets)).Gradient.Dispose());
            var (ourLoss, ourGradient) = ForwardBackward(logits, loss);
            double gradientDifference;
            using (var scope = NewDisposeScope())
            {
                gradientDifference = (ourGradient - BuiltInGradient).abs().max().item<float>();
            }
            ourGradient.Dispose();
            table.Add($"cross-entropy forward+backward, {TokenCount}×{VocabularySize} float32 logits", name, milliseconds[0],
                "functional.cross_entropy", milliseconds[1], minimumSpeedup: kernel == CrossEntropyKernel.Fused ? 1 / 1.1 : null,
                $"|Δloss| {Math.Abs(ourLoss - BuiltInLoss):g2}, max |Δgrad| {gradientDifference:g2}");
        }
        BuiltInGradient.Dispose();
        table.Print(Console.Out);
    }

    /// <summary>The loss and d loss / d logits, without accumulating into logits.grad.</summary>
    static (double Loss, Tensor Gradient) ForwardBackward(Tensor logits, Func<Tensor, Tensor> lossFunction)
    {
        using var scope = NewDisposeScope();
        var loss = lossFunction(logits);
        var gradient = autograd.grad([loss], [logits])[0];
        return (loss.item<float>(), gradient.MoveToOuterDisposeScope());
    }
}
