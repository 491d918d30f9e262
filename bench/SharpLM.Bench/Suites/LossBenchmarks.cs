using System.Globalization;
using SharpLM.Training;
using static TorchSharp.torch;

namespace SharpLM.Bench.Suites;

/// <summary>
/// Cross-entropy forward and backward on a TinyStories-sized batch of logits (8192 tokens × vocab 10000):
/// every kernel of ours vs functional.cross_entropy, timed interleaved, then the peak memory of each.
/// </summary>
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

        var contenders = CrossEntropyKernels.ByName
            .Select(k => (Name: k.Key, Kernel: (CrossEntropyKernel?)k.Value, Loss: (Func<Tensor, Tensor>)(l => Losses.CrossEntropy(l, targets, k.Value))))
            .Append(("functional.cross_entropy", null, l => nn.functional.cross_entropy(l, targets)))
            .ToList();
        Measurement[] times = Timing.Interleaved(Warmup, Iterations,
            contenders.Select(c => (Action)(() => ForwardBackward(logits, c.Loss).Gradient.Dispose())).ToArray());

        var (builtInLoss, builtInGradient) = ForwardBackward(logits, contenders[^1].Loss);
        var table = new ComparisonTable();
        var memoryRows = new List<IReadOnlyList<string>>();
        for (int i = 0; i < contenders.Count; i++)
        {
            var (name, kernel, loss) = contenders[i];
            memoryRows.Add([name, LogitsSizes(PeakMemory.BytesAbove(() => ForwardBackward(logits, loss).Gradient.Dispose()))]);
            if (kernel is null)
            {
                continue;
            }
            var (ourLoss, ourGradient) = ForwardBackward(logits, loss);
            double gradientDifference;
            using (var scope = NewDisposeScope())
            {
                gradientDifference = (ourGradient - builtInGradient).abs().max().item<float>();
            }
            ourGradient.Dispose();
            table.Add($"cross-entropy forward+backward, {TokenCount}×{VocabularySize} float32 logits", name, times[i],
                contenders[^1].Name, times[^1], minimumSpeedup: kernel == CrossEntropyKernel.Fused ? 1 / 1.1 : null,
                $"|Δloss| {Math.Abs(ourLoss - builtInLoss):g2}, max |Δgrad| {gradientDifference:g2}");
        }
        builtInGradient.Dispose();
        table.Print(Console.Out);
        Console.WriteLine();
        // The gradient itself is one logits-size; anything above that is temporaries.
        MarkdownTable.Print(Console.Out, ["cross-entropy forward+backward", "peak memory above inputs, in logits-sizes (the gradient is 1)"], memoryRows);
    }

    static string LogitsSizes(long? bytes) => bytes is { } b
        ? (b / (TokenCount * (double)VocabularySize * sizeof(float))).ToString("0.00", CultureInfo.InvariantCulture)
        : "n/a on this OS";

    /// <summary>The loss and ∂loss/∂logits, through autograd.grad so nothing accumulates into logits.grad.</summary>
    static (double Loss, Tensor Gradient) ForwardBackward(Tensor logits, Func<Tensor, Tensor> lossFunction)
    {
        using var scope = NewDisposeScope();
        var loss = lossFunction(logits);
        var gradient = autograd.grad([loss], [logits])[0];
        return (loss.item<float>(), gradient.MoveToOuterDisposeScope());
    }
}
