using SharpLM.Model;

namespace SharpLM.Accounting;

/// <summary>
/// FLOPs of training a <see cref="TransformerLM"/> (handout §3.6 transformer_accounting, §4.3 adamwAccounting (c)).
/// The forward pass counts matrix multiplies only, 2·m·n·p for an (m×n)·(n×p) product; norms, softmax, SiLU and RoPE
/// are left out, as the handout leaves them out, and so is the embedding lookup, which multiplies nothing. Of the
/// architecture options only the FFN changes the count (SiLU has no W3): norm placement and NoPE change no matmul.
/// </summary>
public static class FlopAccounting
{
    /// <summary>
    /// AdamW FLOPs per parameter, term by term in Algorithm 1: m ← β₁m + (1−β₁)g is 3 (two products, a sum);
    /// v ← β₂v + (1−β₂)g² is 4 (a square, two products, a sum); θ ← θ − αₜ·m/(√v+ε) is 5 (root, sum, quotient,
    /// product, difference); θ ← θ − αλθ is 2. The per-step scalars αₜ and αλ cost O(1), not O(parameters).
    /// </summary>
    public const int AdamWFlopsPerParameter = 3 + 4 + 5 + 2;

    /// <summary>
    /// Forward-pass matmul FLOPs of batchSize sequences of context_length tokens, by component in the order of the
    /// forward pass; per-block rows have <see cref="ComponentCost.Times"/> = num_layers.
    /// </summary>
    /// <exception cref="ArgumentException">The config is invalid or the batch size is not positive.</exception>
    /// <exception cref="OverflowException">A count exceeds 64 bits.</exception>
    public static IReadOnlyList<ComponentCost> ForwardByComponent(TransformerConfig config, int batchSize = 1)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        long tokens = checked((long)batchSize * config.ContextLength); // B·T rows in every position-wise matmul
        long t = config.ContextLength, d = config.DModel, dFf = config.DFf, v = config.VocabSize;
        int layers = config.NumLayers;
        checked
        {
            var rows = new List<ComponentCost>
            {
                new("Q/K/V projections", 3 * Matmul(tokens, d, d), layers),
                // Per sequence and head (T×d_k)·(d_k×T); the h heads of d_k = d/h sum to 2·T·d·T, whatever h is.
                new("QKᵀ", batchSize * Matmul(t, d, t), layers),
                // Per sequence and head (T×T)·(T×d_v), summing to 2·T·T·d. Causal masking does not make it cheaper here.
                new("attention·V", batchSize * Matmul(t, t, d), layers),
                new("output projection", Matmul(tokens, d, d), layers),
                new("W1", Matmul(tokens, d, dFf), layers),
                new("W2", Matmul(tokens, dFf, d), layers),
            };
            if (config.Ffn == FeedForwardKind.Swiglu)
            {
                rows.Add(new("W3", Matmul(tokens, d, dFf), layers));
            }
            // A tied head multiplies by the embedding matrix: the same matmul as an untied one.
            rows.Add(new("LM head", Matmul(tokens, d, v)));
            return rows;
        }
    }

    /// <summary>The forward pass of batchSize sequences of context_length tokens.</summary>
    public static long Forward(TransformerConfig config, int batchSize = 1) =>
        ComponentCost.Sum(ForwardByComponent(config, batchSize));

    /// <summary>Twice the forward pass, following Kaplan et al. and Hoffmann et al. (adamwAccounting (d)).</summary>
    public static long Backward(TransformerConfig config, int batchSize = 1) => checked(2 * Forward(config, batchSize));

    /// <summary><see cref="AdamWFlopsPerParameter"/> for every parameter.</summary>
    public static long AdamWStep(TransformerConfig config) =>
        checked(AdamWFlopsPerParameter * ParameterAccounting.Total(config));

    /// <summary>One training step: forward, backward and the AdamW update.</summary>
    public static long TrainingStep(TransformerConfig config, int batchSize) =>
        checked(Forward(config, batchSize) + Backward(config, batchSize) + AdamWStep(config));

    /// <summary>2·m·n·p: each of the m·p entries of an (m×n)·(n×p) product is n multiplies and n adds.</summary>
    public static long Matmul(long m, long n, long p) => checked(2 * m * n * p);
}
