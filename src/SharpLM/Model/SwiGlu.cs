using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Model;

/// <summary>Position-wise feed-forward network W2(SiLU(W1 x) ⊙ W3 x) (eq. 7), with SiLU(x) = x·σ(x) (eq. 5).</summary>
public sealed class SwiGlu : nn.Module<Tensor, Tensor>
{
    // Field names are the state-dict keys of the CS336 reference (ffn.w1.weight, ...).
    readonly Linear w1;
    readonly Linear w2;
    readonly Linear w3;

    public SwiGlu(long dModel, long dFf, Device? device = null, ScalarType? dtype = null, Generator? generator = null)
        : base(nameof(SwiGlu))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dModel);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dFf);
        DModel = dModel;
        DFf = dFf;
        w1 = new Linear(dModel, dFf, device, dtype, generator);
        w2 = new Linear(dFf, dModel, device, dtype, generator);
        w3 = new Linear(dModel, dFf, device, dtype, generator);
        RegisterComponents();
    }

    public long DModel { get; }

    public long DFf { get; }

    public Linear W1 => w1;

    public Linear W2 => w2;

    public Linear W3 => w3;

    /// <summary>
    /// The default inner size: 8/3·dModel to the nearest multiple of 64 (handout §3.5.2), at least 64, i.e.
    /// round(dModel/24)·64. Nearest rather than up, so that d_model 512 gets the handout's d_ff 1344 (§7.2).
    /// </summary>
    public static long DefaultFeedForwardSize(long dModel)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dModel);
        return Math.Max(1, (dModel + 12) / 24) * 64;
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var gate = w1.call(input); // (..., dFf)
        var silu = gate * gate.sigmoid(); // eq. 5
        var hidden = silu * w3.call(input); // (..., dFf)
        return w2.call(hidden).MoveToOuterDisposeScope(); // (..., d)
    }
}
