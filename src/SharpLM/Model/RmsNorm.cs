using SharpLM.Numerics;
using SharpLM.Precision;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Model;

/// <summary>
/// Root-mean-square layer normalisation over the last dimension (eq. 4), with a learned gain initialised to 1.
/// Computed in at least float32 whatever the input dtype, so squares cannot overflow a half-precision input, and cast back.
/// </summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    // Not readonly: Module.to() swaps parameters through reflection.
    Parameter weight;

    public RmsNorm(long dModel, double eps = 1e-5, Device? device = null, ScalarType? dtype = null)
        : base(nameof(RmsNorm))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dModel);
        ArgumentOutOfRangeException.ThrowIfNegative(eps);
        DModel = dModel;
        Eps = eps;
        this.eps = eps.ToScalar();
        weight = new Parameter(ones([dModel], dtype, device)); // (d)
        RegisterComponents();
    }

    public long DModel { get; }

    public double Eps { get; }

    // Held for the module's lifetime: see Scalars.
    readonly Scalar eps;

    /// <summary>The (dModel) gain g; a live reference, not a copy.</summary>
    public Parameter Weight => weight;

    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() == 0 || input.size(-1) != DModel)
        {
            throw new ArgumentException(
                $"RmsNorm expects a last dimension of {DModel}, got shape [{string.Join(", ", input.shape)}].", nameof(input));
        }
        using var scope = NewDisposeScope();
        var x = Autocast.Widen(input); // (..., d)
        // In place where the tensor is this method's own: a decode step runs this norm twice per layer per token.
        var inverseRms = x.mul(x).mean([-1], keepdim: true).add_(eps, Scalars.One).rsqrt_(); // (..., 1): 1 / RMS(a), eq. 4
        var normalised = x.mul(inverseRms).mul_(Autocast.Widen(weight)); // (..., d)
        return (normalised.dtype == input.dtype ? normalised : normalised.to(input.dtype)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            eps.Dispose();
        }
        base.Dispose(disposing);
    }
}
