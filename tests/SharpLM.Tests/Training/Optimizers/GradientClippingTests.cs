using SharpLM.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Tests.Training;

public class GradientClippingTests
{
    /// <summary>Six 5×5 parameters with gradients from a random loss; the last is frozen (no gradient).</summary>
    static List<Parameter> Parameters(ulong seed, double gradientScale)
    {
        using var generator = new Generator(seed);
        var parameters = Enumerable.Range(0, 6).Select(_ => new Parameter(randn(5, 5, generator: generator))).ToList();
        parameters[^1].requires_grad = false;
        var weights = randn(5, 5, generator: generator);
        var loss = parameters.Select(p => (p * p * weights).sum()).Aggregate((a, b) => a.Plus(b)).Times(gradientScale);
        loss.backward();
        return parameters;
    }

    [Fact]
    public void ClipGradNorm_AboveThreshold_EqualsBuiltInClipGradNorm()
    {
        var ours = Parameters(seed: 3, gradientScale: 1);
        var theirs = Parameters(seed: 3, gradientScale: 1);
        double ourNorm = GradientClipping.ClipGradNorm(ours, maxNorm: 1e-2);
        double theirNorm = nn.utils.clip_grad_norm_(theirs, max_norm: 1e-2);
        Assert.Equal(theirNorm, ourNorm, 1e-4);
        Assert.Null(ours[^1].grad);
        foreach (var (expected, actual) in theirs.Zip(ours).Take(5))
        {
            TensorAssert.Close(expected.grad!, actual.grad!, atol: 1e-7);
        }
        double clippedNorm = Math.Sqrt(ours.Take(5).Sum(p => p.grad!.Squared().sum().item<float>()));
        Assert.Equal(1e-2, clippedNorm, 1e-6);
    }

    [Fact]
    public void ClipGradNorm_BelowThreshold_LeavesGradientsUntouched()
    {
        var parameters = Parameters(seed: 4, gradientScale: 1e-6);
        var before = parameters.Take(5).Select(p => p.grad!.clone()).ToList();
        double norm = GradientClipping.ClipGradNorm(parameters, maxNorm: 1.0);
        double expectedNorm = Math.Sqrt(before.Sum(g => g.to_type(ScalarType.Float64).Squared().sum().item<double>()));
        Assert.Equal(expectedNorm, norm, 1e-9);
        foreach (var (original, parameter) in before.Zip(parameters))
        {
            TensorAssert.Equal(original, parameter.grad!);
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    public void ClipGradNorm_WithNonPositiveMaxNorm_ThrowsNamingIt(double maxNorm)
    {
        var exception = Assert.Throws<ArgumentException>(() => GradientClipping.ClipGradNorm([], maxNorm));
        Assert.Equal("maxNorm", exception.ParamName);
    }
}
