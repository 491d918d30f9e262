using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Model;

/// <summary>Position-wise feed-forward network without a gate, FFN(x) = W2 SiLU(W1 x) (eq. 25).</summary>
public sealed class SiluFeedForward : nn.Module<Tensor, Tensor>
{
    // Field names are the state-dict keys SwiGLU uses for the same matrices (ffn.w1.weight, ffn.w2.weight).
    readonly Linear w1;
    readonly Linear w2;

    public SiluFeedForward(long dModel, long dFf, Device? device = null, ScalarType? dtype = null, Generator? generator = null)
        : base(nameof(SiluFeedForward))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dModel);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dFf);
        w1 = new Linear(dModel, dFf, device, dtype, generator);
        w2 = new Linear(dFf, dModel, device, dtype, generator);
        RegisterComponents();
    }

    public Linear W1 => w1;

    public Linear W2 => w2;

    /// <summary>4·dModel: with two matrices instead of SwiGLU's three, about the parameters of SwiGLU at 8/3·dModel (§7.3).</summary>
    public static long DefaultFeedForwardSize(long dModel)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dModel);
        return 4 * dModel;
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var gate = w1.call(input); // (..., dFf)
        var silu = gate * gate.sigmoid(); // eq. 5
        return w2.call(silu).MoveToOuterDisposeScope(); // (..., d)
    }
}
