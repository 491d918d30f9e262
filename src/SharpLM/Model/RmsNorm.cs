using SharpLM.Numerics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Model;

/// <summary>
/// Root-mean-square layer normalisation over the last dimension (eq. 4), with a learned gain initialised to 1.
/// Computed in float32 whatever the input dtype, so squares cannot overflow a half-precision input, and cast back.
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
        weight = new Parameter(ones([dModel], dtype, device)); // (d)
        RegisterComponents();
    }

    public long DModel { get; }

    public double Eps { get; }

    /// <summary>The (dModel) gain g; a live reference, not a copy.</summary>
    public Parameter Weight => weight;

    public override Tensor forward(Tensor input)
    {
        if (input.shape.Length == 0 || input.shape[^1] != DModel)
        {
            throw new ArgumentException(
                $"RmsNorm expects a last dimension of {DModel}, got shape [{string.Join(", ", input.shape)}].", nameof(input));
        }
        using var scope = NewDisposeScope();
        var x = input.to(ScalarType.Float32); // (..., d)
        using var eps = Eps.ToScalar(); // held: see Scalars
        var inverseRms = x.mul(x).mean([-1], keepdim: true).add_(eps, Scalars.One).rsqrt(); // (..., 1): 1 / RMS(a), eq. 4
        var normalised = x * inverseRms * weight.to(ScalarType.Float32); // (..., d)
        return normalised.to(input.dtype).MoveToOuterDisposeScope();
    }
}
