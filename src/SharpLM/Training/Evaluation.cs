using SharpLM.Data;
using SharpLM.Distributed;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>Mean loss and perplexity of a model over a dataset.</summary>
public sealed record EvaluationResult(double Loss, double Perplexity, long Tokens);

/// <summary>
/// Exact, repeatable evaluation over consecutive non-overlapping windows of a dataset. In a group of processes each
/// evaluates every Size-th batch and the sums are added up, so the result is the same as one process's.
/// </summary>
public static class Evaluation
{
    public static EvaluationResult Evaluate(nn.Module<Tensor, Tensor> model, TokenDataset dataset, int batchSize, int contextLength, Device device, int? maxBatches = null,
        IProcessGroup? group = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            group ??= SingleProcess.Instance;
            Span<double> sums = [0, 0]; // total loss, tokens
            long index = 0;
            foreach (var (inputs, targets) in Batches.Sequential(dataset, batchSize, contextLength, device, maxBatches))
            {
                using var scope = NewDisposeScope();
                using (inputs)
                using (targets)
                {
                    if (index++ % group.Size != group.Rank)
                    {
                        continue;
                    }
                    var losses = Losses.CrossEntropyPerToken(model.call(inputs), targets); // (batch, context)
                    sums[0] += losses.to_type(ScalarType.Float64).sum().item<double>();
                    sums[1] += losses.numel();
                }
            }
            group.SumInPlace(sums);
            double mean = sums[0] / sums[1];
            return new EvaluationResult(mean, Math.Exp(mean), (long)sums[1]); // eq. 18
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
