using SharpLM.Data;
using SharpLM.Distributed;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>Mean loss and perplexity of a model over a dataset.</summary>
public sealed record EvaluationResult(double Loss, double Perplexity, long Tokens);

/// <summary>
/// Exact, repeatable evaluation over fixed windows of a dataset. In a group of processes each evaluates every
/// Size-th batch and the sums are added up, so the result is the same as one process's.
/// </summary>
public static class Evaluation
{
    /// <summary>The training loop's validation: consecutive non-overlapping windows, at most maxBatches batches of them.</summary>
    public static EvaluationResult Evaluate(nn.Module<Tensor, Tensor> model, TokenDataset dataset, int batchSize, int contextLength, Device device, int? maxBatches = null,
        IProcessGroup? group = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (maxBatches is < 1)
        {
            throw new ArgumentException($"maxBatches must be ≥ 1, got {maxBatches}.", nameof(maxBatches));
        }
        var windows = EvaluationWindows.NonOverlapping(dataset.Count, contextLength, (long?)maxBatches * batchSize);
        return Evaluate(model, dataset, windows, batchSize, device, group: group);
    }

    /// <summary>
    /// Mean cross-entropy of the scored targets of <paramref name="windows"/>, each window run on its own from its
    /// first token, <paramref name="batchSize"/> windows of equal length at a time; sums in float64.
    /// </summary>
    public static EvaluationResult Evaluate(nn.Module<Tensor, Tensor> model, TokenDataset dataset, IReadOnlyList<EvaluationWindow> windows,
        int batchSize, Device device, IProgress<long>? windowsDone = null, IProcessGroup? group = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(windows);
        if (batchSize < 1)
        {
            throw new ArgumentException($"batchSize must be ≥ 1, got {batchSize}.", nameof(batchSize));
        }
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            group ??= SingleProcess.Instance;
            Span<double> sums = [0, 0]; // total loss, scored tokens
            long batch = 0;
            for (int first = 0; first < windows.Count;)
            {
                int count = 1;
                while (count < batchSize && first + count < windows.Count && windows[first + count].Length == windows[first].Length)
                {
                    count++;
                }
                if (batch++ % group.Size == group.Rank)
                {
                    using var scope = NewDisposeScope();
                    var (inputs, targets, scored) = Build(dataset, windows, first, count, device);
                    var losses = Losses.CrossEntropyPerToken(model.call(inputs), targets); // (batch, length)
                    sums[0] += (losses.to_type(ScalarType.Float64) * scored).sum().item<double>();
                    for (int i = first; i < first + count; i++)
                    {
                        sums[1] += windows[i].ScoredCount;
                    }
                }
                first += count;
                windowsDone?.Report(first);
            }
            group.SumInPlace(sums);
            if (sums[1] == 0)
            {
                throw new ArgumentException("no target to evaluate: the windows score no token.", nameof(windows));
            }
            double mean = sums[0] / sums[1];
            return new EvaluationResult(mean, Math.Exp(mean), (long)sums[1]); // eq. 18
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>Inputs and targets (count, length) int64 and a float64 mask that is 1 at the scored targets.</summary>
    static (Tensor Inputs, Tensor Targets, Tensor Scored) Build(TokenDataset dataset, IReadOnlyList<EvaluationWindow> windows, int first, int count, Device device)
    {
        int length = windows[first].Length;
        var window = new long[length + 1];
        var inputs = new long[count * length];
        var targets = new long[count * length];
        var scored = new double[count * length];
        for (int row = 0; row < count; row++)
        {
            var current = windows[first + row];
            dataset.Read(current.Start, window);
            window.AsSpan(0, length).CopyTo(inputs.AsSpan(row * length));
            window.AsSpan(1, length).CopyTo(targets.AsSpan(row * length));
            scored.AsSpan(row * length + current.FirstScored, current.ScoredCount).Fill(1);
        }
        return (
            tensor(inputs, [count, length], dtype: ScalarType.Int64).to(device),   // (batch, length)
            tensor(targets, [count, length], dtype: ScalarType.Int64).to(device),  // (batch, length)
            tensor(scored, [count, length], dtype: ScalarType.Float64).to(device)); // (batch, length)
    }
}
