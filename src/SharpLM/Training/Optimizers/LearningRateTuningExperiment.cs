using SharpLM.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>The loss per step of one learning rate in <see cref="LearningRateTuningExperiment"/>.</summary>
public sealed record LearningRateTrial(double LearningRate, IReadOnlyList<double> Losses)
{
    /// <summary>Last loss over first loss.</summary>
    public double Ratio => Losses[^1] / Losses[0];

    /// <summary>"diverges" when the loss grows, "converges" when it all but vanishes, else "decays".</summary>
    public string Verdict => !double.IsFinite(Ratio) || Ratio > 1 ? "diverges" : Ratio < 1e-6 ? "converges" : "decays";
}

/// <summary>
/// The handout's learning-rate toy (§4.2.1): weights 5·randn(10, 10), loss mean(w²), the SGD of eq. 20.
/// The gradient is w/50, so each step scales every weight by the same factor 1 − α/(50·√(t+1)) and the loss by
/// its square: the outcome is exact and independent of the seed.
/// </summary>
public static class LearningRateTuningExperiment
{
    public static IReadOnlyList<double> DefaultLearningRates { get; } = [1e1, 1e2, 1e3];

    public static IReadOnlyList<LearningRateTrial> Run(IEnumerable<double> learningRates, int steps = 10, long seed = 42)
    {
        ArgumentNullException.ThrowIfNull(learningRates);
        if (steps < 1)
        {
            throw new ArgumentException($"steps must be ≥ 1, got {steps}.", nameof(steps));
        }
        return learningRates.Select(lr => RunOne(lr, steps, seed)).ToList();
    }

    static LearningRateTrial RunOne(double learningRate, int steps, long seed)
    {
        using var generator = new Generator((ulong)seed);
        // Held scalars: see Scalars.
        using var five = 5.ToScalar();
        using var two = 2.ToScalar();
        using var weights = nn.Parameter(randn(10, 10, generator: generator).mul_(five)); // (10, 10)
        using var optimizer = new Sgd([weights], learningRate);
        var losses = new List<double>(steps);
        for (int t = 0; t < steps; t++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = weights.pow(two).mean(); // ()
            losses.Add(loss.item<float>());
            loss.backward();
            optimizer.step();
        }
        return new LearningRateTrial(learningRate, losses);
    }
}
