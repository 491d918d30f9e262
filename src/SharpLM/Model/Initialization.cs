using SharpLM.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Model;

/// <summary>Parameter initialisation of handout §3.4.1.</summary>
public static class Initialization
{
    /// <summary>
    /// Fills <paramref name="tensor"/> in place with samples of N(mean, std²) truncated to [lower, upper], by the
    /// inverse-CDF method of PyTorch's <c>torch.nn.init.trunc_normal_</c>.
    /// </summary>
    /// <remarks>
    /// Not <c>nn.init.trunc_normal_</c> of TorchSharp 0.107.0: its native code multiplies by the mean and adds the
    /// standard deviation, so with mean 0 every element comes out equal to <paramref name="std"/>; it also ignores
    /// the generator. The generator, when given, must live on the tensor's device.
    /// </remarks>
    public static Tensor TruncatedNormal_(Tensor tensor, double mean, double std, double lower, double upper, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!(std > 0))
        {
            throw new ArgumentException($"std must be positive, got {std}.", nameof(std));
        }
        if (!(lower < upper))
        {
            throw new ArgumentException($"lower cut {lower} must be below upper cut {upper}.", nameof(lower));
        }

        double lowerCdf = StandardNormalCdf((lower - mean) / std);
        double upperCdf = StandardNormalCdf((upper - mean) / std);
        using (no_grad())
        {
            // u ~ U(2Φ(a)-1, 2Φ(b)-1) gives erfinv(u)·√2 ~ N(0, 1) truncated to [a, b] (standardised cuts).
            // Held scalars: see Scalars.
            using var scale = (std * Math.Sqrt(2.0)).ToScalar();
            using var shift = mean.ToScalar();
            using var low = lower.ToScalar();
            using var high = upper.ToScalar();
            tensor.uniform_(2 * lowerCdf - 1, 2 * upperCdf - 1, generator);
            tensor.erfinv_();
            tensor.mul_(scale);
            tensor.add_(shift, Scalars.One);
            // Rounding in erfinv can step a hair past the cut.
            tensor.clamp_(low, high);
        }
        return tensor;
    }

    /// <summary>Linear weights: N(0, 2/(in+out)) truncated at ±3σ (handout §3.4.1).</summary>
    public static double LinearStd(long inFeatures, long outFeatures) => Math.Sqrt(2.0 / (inFeatures + outFeatures));

    static double StandardNormalCdf(double x)
    {
        using var value = tensor(x, ScalarType.Float64);
        using var cdf = special.ndtr(value);
        return cdf.item<double>();
    }
}
