using SharpLM.Numerics;
using TorchSharp;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace SharpLM.Model;

/// <summary>
/// Transformer block (handout §3.5): pre-norm by default, y = x + Attn(RMSNorm(x)) (eq. 15), then y + FFN(RMSNorm(y));
/// post-norm or without norms as <see cref="NormPlacement"/> says (§7.3), with a SwiGLU or SiLU feed-forward network.
/// </summary>
public sealed class TransformerBlock : nn.Module<Tensor, Tensor>
{
    // Null without norms, so the state dict has no ln1/ln2 keys; post-norm keeps the keys for the norm after each sublayer.
    [ComponentName(Name = "ln1")]
    readonly RmsNorm? attentionNorm;

    [ComponentName(Name = "attn")]
    readonly CausalSelfAttention attention;

    [ComponentName(Name = "ln2")]
    readonly RmsNorm? feedForwardNorm;

    [ComponentName(Name = "ffn")]
    readonly nn.Module<Tensor, Tensor> feedForward;

    public TransformerBlock(
        long dModel,
        long numHeads,
        long dFf,
        Rope? rope = null,
        AttentionKernel kernel = AttentionKernel.Fused,
        Device? device = null,
        ScalarType? dtype = null,
        Generator? generator = null,
        NormPlacement norm = NormPlacement.Pre,
        FeedForwardKind ffn = FeedForwardKind.Swiglu)
        : base(nameof(TransformerBlock))
    {
        if (!Enum.IsDefined(norm))
        {
            throw new ArgumentException($"Unknown norm placement {norm}.", nameof(norm));
        }
        Norm = norm;
        if (norm != NormPlacement.None)
        {
            attentionNorm = new RmsNorm(dModel, device: device, dtype: dtype);
        }
        attention = new CausalSelfAttention(dModel, numHeads, rope, kernel, device, dtype, generator);
        if (norm != NormPlacement.None)
        {
            feedForwardNorm = new RmsNorm(dModel, device: device, dtype: dtype);
        }
        feedForward = ffn switch
        {
            FeedForwardKind.Swiglu => new SwiGlu(dModel, dFf, device, dtype, generator),
            FeedForwardKind.Silu => new SiluFeedForward(dModel, dFf, device, dtype, generator),
            _ => throw new ArgumentException($"Unknown feed-forward network {ffn}.", nameof(ffn)),
        };
        RegisterComponents();
    }

    public NormPlacement Norm { get; }

    /// <summary>The norm before attention (pre-norm) or after its residual sum (post-norm); null without norms.</summary>
    public RmsNorm? AttentionNorm => attentionNorm;

    public CausalSelfAttention Attention => attention;

    /// <summary>The norm before the FFN (pre-norm) or after its residual sum (post-norm); null without norms.</summary>
    public RmsNorm? FeedForwardNorm => feedForwardNorm;

    /// <summary>A <see cref="SwiGlu"/> or a <see cref="SiluFeedForward"/>.</summary>
    public nn.Module<Tensor, Tensor> FeedForward => feedForward;

    /// <summary>(..., seq, dModel) → (..., seq, dModel), tokens at positions 0, 1, …, seq−1.</summary>
    public override Tensor forward(Tensor input) => Apply(input, tokenPositions: null);

    /// <summary>(..., seq, dModel) → (..., seq, dModel) with the given (..., seq) token positions.</summary>
    public Tensor forward(Tensor input, Tensor tokenPositions)
    {
        ArgumentNullException.ThrowIfNull(tokenPositions);
        return Apply(input, tokenPositions);
    }

    /// <summary>
    /// (batch, seq, dModel) → (batch, seq, dModel), row b continuing the sequence cached in <paramref name="caches"/>[b],
    /// rotated by <paramref name="angles"/> (see <see cref="CausalSelfAttention"/>); <paramref name="weights"/>, when
    /// given, are this block's fused decoding weights (<see cref="DecodingWeights"/>).
    /// </summary>
    public Tensor forward(Tensor input, RotaryAngles? angles, IReadOnlyList<LayerKeyValues> caches, LayerDecodingWeights? weights = null)
    {
        ArgumentNullException.ThrowIfNull(caches);
        return Apply(input, x => attention.forward(x, angles, caches, weights?.Projection),
            weights?.GateAndUp is { } gateAndUp && feedForward is SwiGlu swiGlu ? x => swiGlu.forward(x, gateAndUp) : feedForward.call);
    }

    Tensor Apply(Tensor input, Tensor? tokenPositions) =>
        Apply(input, x => tokenPositions is null ? attention.call(x) : attention.forward(x, tokenPositions), feedForward.call);

    Tensor Apply(Tensor input, Func<Tensor, Tensor> attend, Func<Tensor, Tensor> feedForward)
    {
        using var scope = NewDisposeScope();
        var output = Norm switch // (..., seq, d)
        {
            NormPlacement.Pre => PreNorm(input, attend, feedForward),
            NormPlacement.Post => PostNorm(input, attend, feedForward),
            _ => NoNorm(input, attend, feedForward),
        };
        return output.MoveToOuterDisposeScope();
    }

    Tensor PreNorm(Tensor input, Func<Tensor, Tensor> attend, Func<Tensor, Tensor> feedForward)
    {
        // add(…, One), not +: see Scalars.
        var afterAttention = input.add(attend(attentionNorm!.call(input)), Scalars.One); // eq. 15
        return afterAttention.add(feedForward(feedForwardNorm!.call(afterAttention)), Scalars.One);
    }

    Tensor PostNorm(Tensor input, Func<Tensor, Tensor> attend, Func<Tensor, Tensor> feedForward)
    {
        var afterAttention = attentionNorm!.call(input.add(attend(input), Scalars.One)); // z = RMSNorm(x + MHA(x))
        return feedForwardNorm!.call(afterAttention.add(feedForward(afterAttention), Scalars.One)); // y = RMSNorm(z + FFN(z))
    }

    Tensor NoNorm(Tensor input, Func<Tensor, Tensor> attend, Func<Tensor, Tensor> feedForward)
    {
        var afterAttention = input.add(attend(input), Scalars.One);
        return afterAttention.add(feedForward(afterAttention), Scalars.One);
    }
}
