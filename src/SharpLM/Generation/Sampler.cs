using SharpLM.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Generation;

/// <summary>Turns the model's next-token logits into a token: temperature scaling and nucleus (top-p) sampling (§6).</summary>
public static class Sampler
{
    /// <summary>
    /// softmax(v / τ) over the last dimension (eq. 24).
    /// </summary>
    /// <param name="logits">(..., vocab).</param>
    public static Tensor TemperatureSoftmax(Tensor logits, double temperature)
    {
        if (!(temperature > 0))
        {
            throw new ArgumentException($"temperature must be > 0 here (0 means greedy, see Sample), got {temperature}.", nameof(temperature));
        }
        using var scope = NewDisposeScope();
        using var held = temperature.ToScalar(); // see Scalars
        return logits.to_type(ScalarType.Float32).div(held).softmax(-1).MoveToOuterDisposeScope(); // (..., vocab)
    }

    /// <summary>
    /// Keeps the smallest set of most likely tokens whose probabilities sum to at least <paramref name="topP"/>
    /// and renormalises them; every other token gets probability 0.
    /// </summary>
    /// <param name="probabilities">(vocab) a distribution.</param>
    public static Tensor TopP(Tensor probabilities, double topP)
    {
        if (!(topP > 0 && topP <= 1))
        {
            throw new ArgumentException($"topP must be in (0, 1], got {topP}.", nameof(topP));
        }
        using var scope = NewDisposeScope();
        var (sorted, order) = probabilities.sort(-1, descending: true);  // (vocab), (vocab)
        var before = sorted.cumsum(-1) - sorted;                         // mass of the tokens ranked above each
        // A token belongs to the nucleus while the mass above it is still short of p; the top token always does.
        using var p = topP.ToScalar(); // held: see Scalars
        var keep = before.lt(p);
        keep[0] = tensor(true);
        var kept = sorted.where(keep, zeros_like(sorted));
        var nucleus = zeros_like(probabilities).scatter_(-1, order, kept);
        return (nucleus / nucleus.sum()).MoveToOuterDisposeScope();      // (vocab)
    }

    /// <summary>
    /// Picks the next token from (vocab) logits: argmax when <paramref name="temperature"/> is 0, otherwise a draw
    /// from the temperature-scaled nucleus distribution.
    /// </summary>
    public static int Sample(Tensor logits, double temperature, double topP, Generator? generator)
    {
        if (temperature < 0 || double.IsNaN(temperature))
        {
            throw new ArgumentException($"temperature must be ≥ 0, got {temperature}.", nameof(temperature));
        }
        using var scope = NewDisposeScope();
        if (temperature == 0)
        {
            return (int)logits.argmax(-1).item<long>();
        }
        var distribution = TopP(TemperatureSoftmax(logits, temperature), topP);
        return (int)multinomial(distribution, 1, generator: generator).item<long>();
    }
}
