using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Tests.Model;

public class LinearTests
{
    [Fact]
    public void Forward_EqualsFunctionalLinearWithTheSameWeight()
    {
        using var generator = new Generator(10);
        using var linear = new Linear(6, 4, generator: generator);
        using var input = randn([2, 3, 6], generator: generator);

        using var actual = linear.forward(input);
        using var expected = nn.functional.linear(input, linear.Weight);

        Assert.Equal([2L, 3, 4], actual.shape);
        TensorAssert.Close(expected, actual, 1e-6, 1e-6);
    }

    [Fact]
    public void Init_StdIsWithinFivePercentOfTargetAndNothingIsBeyondThreeSigma()
    {
        using var generator = new Generator(11);
        using var linear = new Linear(384, 128, generator: generator);
        double sigma = Math.Sqrt(2.0 / (384 + 128));

        double std = linear.Weight.std().item<float>();
        Assert.InRange(std, sigma * 0.95, sigma * 1.05);
        Assert.InRange(linear.Weight.mean().item<float>(), -0.01 * sigma, 0.01 * sigma);
        Assert.True(linear.Weight.abs().max().item<float>() <= 3 * sigma + 1e-7);
        Assert.Equal([128L, 384], linear.Weight.shape);
    }

    [Fact]
    public void Init_WithGeneratorsOfTheSameSeed_IsReproducible()
    {
        using var first = new Generator(12);
        using var second = new Generator(12);
        using var a = new Linear(8, 8, generator: first);
        using var b = new Linear(8, 8, generator: second);

        TensorAssert.Equal(a.Weight, b.Weight);
    }

    [Fact]
    public void Ctor_WithDtype_CreatesTheWeightInThatDtype()
    {
        using var linear = new Linear(4, 2, dtype: ScalarType.Float64);

        Assert.Equal(ScalarType.Float64, linear.Weight.dtype);
        Assert.Equal(["weight"], linear.state_dict().Keys);
    }

    [Fact]
    public void Forward_WithWrongLastDimension_ThrowsNamingBothSizes()
    {
        using var linear = new Linear(4, 2);
        using var input = zeros(3, 5);

        var error = Assert.Throws<ArgumentException>(() => linear.forward(input));
        Assert.Contains("4", error.Message);
        Assert.Contains("5", error.Message);
    }
}
