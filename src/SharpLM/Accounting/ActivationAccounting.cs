using SharpLM.Model;

namespace SharpLM.Accounting;

/// <summary>
/// Activations kept for the backward pass, in elements, counted the way the handout's adamwAccounting (a) lists them:
/// each listed component's output, for batch_size sequences of context_length tokens. With a SwiGLU FFN it counts,
/// beside the handout's W1, SiLU and W2, also W3 and the product SiLU(W1 x) ⊙ W3 x (eq. 7); the SiLU FFN (eq. 25) is
/// the handout's list. Norms are counted where the architecture has them (post-norm saves as many outputs as
/// pre-norm). What the list leaves out (embedding lookups, RoPE, residual sums, the causal mask) is left out here too.
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
        bool gated = config.Ffn == FeedForwardKind.Swiglu;
        checked
        {
            var rows = new List<ComponentCost>();
            if (config.Norm != NormPlacement.None)
            {
                rows.Add(new("RMSNorms (ln1, ln2)", 2 * tokens * d, layers));
            }
            rows.Add(new("Q/K/V projections", 3 * tokens * d, layers));
            rows.Add(new("QKᵀ", batchSize * h * t * t, layers)); // one T×T score matrix per head
            rows.Add(new("softmax", batchSize * h * t * t, layers));
            rows.Add(new("weighted sum of values", tokens * d, layers));
            rows.Add(new("output projection", tokens * d, layers));
            rows.Add(new("W1", tokens * dFf, layers));
            if (gated)
            {
                rows.Add(new("W3", tokens * dFf, layers));
            }
            rows.Add(new("SiLU", tokens * dFf, layers));
            if (gated)
            {
                rows.Add(new("SiLU ⊙ W3", tokens * dFf, layers));
            }
            rows.Add(new("W2", tokens * d, layers));
            if (config.FinalNorm)
            {
                rows.Add(new("final RMSNorm", tokens * d));
            }
            rows.Add(new("output embedding", tokens * v)); // the logits
            rows.Add(new("cross-entropy", tokens * v)); // the softmax over the logits
            return rows;
        }
    }

    /// <summary>
    /// B·(L·(8·T·d + 4·T·d_ff + 2·h·T²) + T·d + 2·T·V) for the handout's model; without block norms 6·T·d per layer
    /// instead of 8, with the SiLU FFN 2·T·d_ff instead of 4, without the final norm no T·d.
    /// </summary>
    public static long Total(TransformerConfig config, int batchSize = 1) => ComponentCost.Sum(ByComponent(config, batchSize));
}
