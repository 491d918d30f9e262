using TorchSharp;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace SharpLM.Model;

/// <summary>Pre-norm Transformer block (handout §3.5): y = x + Attn(RMSNorm(x)) (eq. 15), then y + FFN(RMSNorm(y)).</summary>
public sealed class TransformerBlock : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "ln1")]
    readonly RmsNorm attentionNorm;

    [ComponentName(Name = "attn")]
    readonly CausalSelfAttention attention;

    [ComponentName(Name = "ln2")]
    readonly RmsNorm feedForwardNorm;

    [ComponentName(Name = "ffn")]
    readonly SwiGlu feedForward;

    public TransformerBlock(
        long dModel,
        long numHeads,
        long dFf,
        Rope? rope = null,
        AttentionKernel kernel = AttentionKernel.Fused,
        Device? device = null,
        ScalarType? dtype = null,
        Generator? generator = null)
        : base(nameof(TransformerBlock))
    {
        attentionNorm = new RmsNorm(dModel, device: device, dtype: dtype);
        attention = new CausalSelfAttention(dModel, numHeads, rope, kernel, device, dtype, generator);
        feedForwardNorm = new RmsNorm(dModel, device: device, dtype: dtype);
        feedForward = new SwiGlu(dModel, dFf, device, dtype, generator);
        RegisterComponents();
    }

    public RmsNorm AttentionNorm => attentionNorm;

    public CausalSelfAttention Attention => attention;

    public RmsNorm FeedForwardNorm => feedForwardNorm;

    public SwiGlu FeedForward => feedForward;

    /// <summary>(..., seq, dModel) → (..., seq, dModel), tokens at positions 0, 1, …, seq−1.</summary>
    public override Tensor forward(Tensor input) => Apply(input, tokenPositions: null);

    /// <summary>(..., seq, dModel) → (..., seq, dModel) with the given (..., seq) token positions.</summary>
    public Tensor forward(Tensor input, Tensor tokenPositions)
    {
        ArgumentNullException.ThrowIfNull(tokenPositions);
        return Apply(input, tokenPositions);
    }

    /// <summary>(batch, seq, dModel) → (batch, seq, dModel), row b continuing the sequence cached in <paramref name="caches"/>[b].</summary>
    public Tensor forward(Tensor input, Tensor tokenPositions, IReadOnlyList<LayerKeyValues> caches)
    {
        ArgumentNullException.ThrowIfNull(tokenPositions);
        ArgumentNullException.ThrowIfNull(caches);
        return Apply(input, tokenPositions, caches);
    }

    Tensor Apply(Tensor input, Tensor? tokenPositions, IReadOnlyList<LayerKeyValues>? caches = null)
    {
        using var scope = NewDisposeScope();
        var normalised = attentionNorm.call(input);
        var attended = tokenPositions is null ? attention.call(normalised)
            : caches is null ? attention.forward(normalised, tokenPositions)
            : attention.forward(normalised, tokenPositions, caches);
        var afterAttention = input + attended; // (..., seq, d): eq. 15
        var output = afterAttention + feedForward.call(feedForwardNorm.call(afterAttention)); // (..., seq, d)
        return output.MoveToOuterDisposeScope();
    }
}
