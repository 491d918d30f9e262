using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Tests.Model;

public class InitializationTests
{
    // Standard deviation of N(0, 1) truncated to [−3, 3]: √(1 − 2·3·φ(3) / (Φ(3) − Φ(−3))).
    internal const double TruncatedAtThreeSigmaStd = 0.986578;

    [Fact]
    public void TruncatedNormal_Samples_HaveTruncatedStdAndStayInsideTheCut()
    {
        using var generator = new Generator(1);
        using var samples = empty(200_000);
        Initialization.TruncatedNormal_(samples, 0, 0.5, -1.5, 1.5, generator);

        Assert.InRange(samples.std().item<float>(), 0.5 * TruncatedAtThreeSigmaStd * 0.99, 0.5 * TruncatedAtThreeSigmaStd * 1.01);
        Assert.InRange(samples.mean().item<float>(), -0.005, 0.005);
        Assert.True(samples.abs().max().item<float>() <= 1.5f);
        // Not degenerate: the tails near the cut are reached.
        Assert.True(samples.abs().max().item<float>() > 1.4f);
    }

    [Fact]
    public void TruncatedNormal_WithNonzeroMean_IsCentredOnTheMeanAndCutAbsolutely()
    {
        using var generator = new Generator(2);
        using var samples = empty(100_000);
        Initialization.TruncatedNormal_(samples, mean: 2, std: 1, lower: 1, upper: 4, generator);

        Assert.True(samples.min().item<float>() >= 1f);
        Assert.True(samples.max().item<float>() <= 4f);
        // Mean of N(2, 1) truncated to [1, 4]: 2 + (φ(−1) − φ(2)) / (Φ(2) − Φ(−1)) = 2.2296.
        Assert.InRange(samples.mean().item<float>(), 2.2196, 2.2396);
    }

    [Fact]
    public void TruncatedNormal_WithGeneratorsOfTheSameSeed_GivesTheSameSamples()
    {
        using var first = new Generator(42);
        using var second = new Generator(42);
        using var third = new Generator(43);
        using var a = Initialization.TruncatedNormal_(empty(64), 0, 1, -3, 3, first);
        using var b = Initialization.TruncatedNormal_(empty(64), 0, 1, -3, 3, second);
        using var c = Initialization.TruncatedNormal_(empty(64), 0, 1, -3, 3, third);

        TensorAssert.Equal(a, b);
        Assert.False(a.eq(c).all().item<bool>());
    }

    [Theory]
    [InlineData(0.0, -1.0, 1.0)]
    [InlineData(1.0, 1.0, 1.0)]
    [InlineData(1.0, 2.0, 1.0)]
    public void TruncatedNormal_WithBadArguments_ThrowsNamingThem(double std, double lower, double upper)
    {
        using var tensor = empty(4);
        var error = Assert.Throws<ArgumentException>(() => Initialization.TruncatedNormal_(tensor, 0, std, lower, upper));
        Assert.Contains(std == 0 ? "0" : $"{lower}", error.Message);
    }
}
