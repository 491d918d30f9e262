using SharpLM.Precision;
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
        return Gate(w1.call(input), w3.call(input)).MoveToOuterDisposeScope(); // (..., d)
    }

    /// <summary>The same network with <see cref="FuseGateAndUp"/>'s weight: W1 x and W3 x in one product.</summary>
    public Tensor forward(Tensor input, Tensor gateAndUp)
    {
        ArgumentNullException.ThrowIfNull(gateAndUp);
        using var scope = NewDisposeScope();
        var both = Linear.Apply(input, gateAndUp); // (..., 2·dFf)
        return Gate(both.narrow(-1, 0, DFf), both.narrow(-1, DFf, DFf)).MoveToOuterDisposeScope(); // (..., d)
    }

    /// <summary>
    /// W1 and W3 stacked into one (2·dFf, dModel) weight, in the autocast compute type, for decoding. A copy: whoever
    /// fuses it owns it and fuses again after the weights change.
    /// </summary>
    public Tensor FuseGateAndUp()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return Autocast.ForMatmul(cat([w1.Weight, w3.Weight], 0)).MoveToOuterDisposeScope(); // (2·dFf, d)
    }

    /// <summary>W2(SiLU(gate) ⊙ up) for the (..., dFf) products W1 x and W3 x.</summary>
    Tensor Gate(Tensor gate, Tensor up)
    {
        var silu = gate * gate.sigmoid(); // eq. 5
        return w2.call(silu * up); // (..., d)
    }
}
