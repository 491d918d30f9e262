using SharpLM.Model;

namespace SharpLM.Accounting;

/// <summary>
/// Activations kept for the backward pass, in elements, counted the way the handout's adamwAccounting (a) lists them:
/// each listed component's output, for batch_size sequences of context_length tokens. The FFN is SwiGLU, so beside
/// the handout's W1, SiLU and W2 it also counts W3 and the product SiLU(W1 x) ⊙ W3 x (eq. 7). What the list leaves
/// out (embedding lookups, RoPE, residual sums, the causal mask) is left out here too.
/// </summary>
public static class ActivationAccounting
{
    /// <summary>Rows in the order of the forward pass; per-block rows have <see cref="ComponentCost.Times"/> = num_layers.</summary>
    /// <exception cref="ArgumentException">The config is invalid or the batch size is not positive.</exception>
    /// <exception cref="OverflowException">A count exceeds 64 bits.</exception>
    public static IReadOnlyList<ComponentCost> ByComponent(TransformerConfig config, int batchSize = 1)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        long tokens = checked((long)batchSize * config.ContextLength); // B·T
        long t = config.ContextLength, d = config.DModel, dFf = config.DFf, v = config.VocabSize, h = config.NumHeads;
        int layers = config.NumLayers;
        checked
        {
            return
            [
                new("RMSNorms (ln1, ln2)", 2 * tokens * d, layers),
                new("Q/K/V projections", 3 * tokens * d, layers),
                new("QKᵀ", batchSize * h * t * t, layers), // one T×T score matrix per head
                new("softmax", batchSize * h * t * t, layers),
                new("weighted sum of values", tokens * d, layers),
                new("output projection", tokens * d, layers),
                new("W1", tokens * dFf, layers),
                new("W3", tokens * dFf, layers),
                new("SiLU", tokens * dFf, layers),
                new("SiLU ⊙ W3", tokens * dFf, layers),
                new("W2", tokens * d, layers),
                new("final RMSNorm", tokens * d),
                new("output embedding", tokens * v), // the logits
                new("cross-entropy", tokens * v), // the softmax over the logits
            ];
        }
    }

    /// <summary>B·(L·(8·T·d + 4·T·d_ff + 2·h·T²) + T·d + 2·T·V).</summary>
    public static long Total(TransformerConfig config, int batchSize = 1) => ComponentCost.Sum(ByComponent(config, batchSize));
}
