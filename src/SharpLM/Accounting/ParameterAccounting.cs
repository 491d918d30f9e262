using SharpLM.Model;

namespace SharpLM.Accounting;

/// <summary>
/// Trainable parameters of a <see cref="TransformerLM"/> by component, exact and without building it (handout §3.6,
/// transformer_accounting (a)): no biases, SwiGLU's three matrices (SiLU's two), one gain vector per RMSNorm that the
/// architecture has, an LM head unless it is tied to the token embeddings. Position encodings have no parameters.
/// </summary>
public static class ParameterAccounting
{
    /// <summary>Rows in the order of the forward pass; per-block rows have <see cref="ComponentCost.Times"/> = num_layers.</summary>
    /// <exception cref="ArgumentException">The config is invalid.</exception>
    /// <exception cref="OverflowException">A count exceeds 64 bits.</exception>
    public static IReadOnlyList<ComponentCost> ByComponent(TransformerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        long v = config.VocabSize, d = config.DModel, dFf = config.DFf;
        int layers = config.NumLayers;
        checked
        {
            var rows = new List<ComponentCost> { new("token embeddings", v * d) };
            if (config.Norm != NormPlacement.None)
            {
                rows.Add(new("RMSNorms (ln1, ln2)", 2 * d, layers));
            }
            rows.Add(new("Q/K/V projections", 3 * d * d, layers));
            rows.Add(new("output projection", d * d, layers));
            rows.Add(new("W1", d * dFf, layers));
            rows.Add(new("W2", dFf * d, layers));
            if (config.Ffn == FeedForwardKind.Swiglu)
            {
                rows.Add(new("W3", d * dFf, layers));
            }
            if (config.FinalNorm)
            {
                rows.Add(new("final RMSNorm", d));
            }
            if (!config.TieEmbeddings)
            {
                rows.Add(new("LM head", d * v));
            }
            return rows;
        }
    }

    /// <summary>
    /// (2 − tied)·V·d + L·(4d² + m·d·d_ff + n·d) + f·d, with m = 3 for SwiGLU or 2 for SiLU, n = 2 with block norms or
    /// 0 without, f = 1 with the final norm or 0 without; 2·V·d + L·(4d² + 3·d·d_ff + 2d) + d for the handout's model.
    /// </summary>
    public static long Total(TransformerConfig config) => ComponentCost.Sum(ByComponent(config));
}
