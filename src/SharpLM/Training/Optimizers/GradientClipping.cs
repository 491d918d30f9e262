using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>Global ℓ2 gradient-norm clipping (handout §4.5).</summary>
public static class GradientClipping
{
    /// <summary>
    /// Computes one ℓ2 norm over the gradients of all <paramref name="parameters"/> together and, when it
    /// exceeds <paramref name="maxNorm"/>, scales every gradient in place by maxNorm / (‖g‖ + eps).
    /// Parameters without a gradient are skipped.
    /// </summary>
    /// <returns>The norm before clipping (0 when no parameter has a gradient).</returns>
    public static double ClipGradNorm(IEnumerable<Parameter> parameters, double maxNorm, double eps = 1e-6)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > 0))
        {
            throw new ArgumentException($"maxNorm must be > 0, got {maxNorm}.", nameof(maxNorm));
        }
        if (eps < 0)
        {
            throw new ArgumentException($"eps must be ≥ 0, got {eps}.", nameof(eps));
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var gradients = parameters.Select(p => p.grad).OfType<Tensor>().ToList();
        if (gradients.Count == 0)
        {
            return 0;
        }
        // Norms of norms: ‖(‖g₁‖, …, ‖gₙ‖)‖₂ = ‖concat(g₁, …, gₙ)‖₂ without concatenating.
        var norms = stack(gradients.Select(g => g.norm().to_type(ScalarType.Float64)).ToArray()); // (n)
        double totalNorm = norms.norm().item<double>();
        if (totalNorm > maxNorm)
        {
            using var scale = (maxNorm / (totalNorm + eps)).ToScalar(); // held: see Scalars
            foreach (var gradient in gradients)
            {
                gradient.mul_(scale);
            }
        }
        return totalNorm;
    }
}
