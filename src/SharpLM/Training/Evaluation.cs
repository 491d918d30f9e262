using SharpLM.Data;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>Mean loss and perplexity of a model over a dataset.</summary>
public sealed record EvaluationResult(double Loss, double Perplexity, long Tokens);

/// <summary>Exact, repeatable evaluation over consecutive non-overlapping windows of a dataset.</summary>
public static class Evaluation
{
    public static EvaluationResult Evaluate(nn.Module<Tensor, Tensor> model, TokenDataset dataset, int batchSize, int contextLength, Device device, int? maxBatches = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            double total = 0;
            long tokens = 0;
            foreach (var (inputs, targets) in Batches.Sequential(dataset, batchSize, contextLength, device, maxBatches))
            {
                using var scope = NewDisposeScope();
                using (inputs)
                using (targets)
                {
                    var losses = Losses.CrossEntropyPerToken(model.call(inputs), targets); // (batch, context)
                    total += losses.to_type(ScalarType.Float64).sum().item<double>();
                    tokens += losses.numel();
                }
            }
            double mean = total / tokens;
            return new EvaluationResult(mean, Math.Exp(mean), tokens); // eq. 18
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
