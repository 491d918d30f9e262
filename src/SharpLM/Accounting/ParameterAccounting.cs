using SharpLM.Model;

namespace SharpLM.Accounting;

/// <summary>
/// Trainable parameters of a <see cref="TransformerLM"/> by component, exact and without building it (handout §3.6,
/// transformer_accounting (a)): no biases, SwiGLU's three matrices, one gain vector per RMSNorm, an untied LM head.
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
            return
            [
                new("token embeddings", v * d),
                new("RMSNorms (ln1, ln2)", 2 * d, layers),
                new("Q/K/V projections", 3 * d * d, layers),
                new("output projection", d * d, layers),
                new("W1", d * dFf, layers),
                new("W2", dFf * d, layers),
                new("W3", d * dFf, layers),
                new("final RMSNorm", d),
                new("LM head", d * v),
            ];
        }
    }

    /// <summary>2·V·d + L·(4d² + 3·d·d_ff + 2d) + d.</summary>
    public static long Total(TransformerConfig config) => ComponentCost.Sum(ByComponent(config));
}
