using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Tests.Model;

public class RmsNormTests
{
    const double Eps = 1e-5;

    [Fact]
    public void Forward_Float32_EqualsClosedForm()
    {
        using var generator = new Generator(30);
        using var norm = new RmsNorm(8, Eps);
        using (no_grad())
        {
            norm.Weight.copy_(randn([8], generator: generator));
        }
        using var input = randn([2, 3, 8], generator: generator);

        using var actual = norm.forward(input);

        using var expected = ClosedForm(input, norm.Weight);
        Assert.Equal(ScalarType.Float32, actual.dtype);
        TensorAssert.Close(expected, actual, 1e-6, 1e-5);
    }

    [Fact]
    public void Forward_BFloat16_ComputesInFloat32AndReturnsBFloat16()
    {
        using var generator = new Generator(31);
        using var norm = new RmsNorm(16, Eps, dtype: ScalarType.BFloat16);
        using (no_grad())
        {
            norm.Weight.copy_(randn([16], generator: generator));
        }
        using var input = randn([4, 16], generator: generator).to(ScalarType.BFloat16);

        using var actual = norm.forward(input);

        Assert.Equal(ScalarType.BFloat16, actual.dtype);
        using var expected = ClosedForm(input, norm.Weight).to(ScalarType.BFloat16);
        // At most one bfloat16 rounding step (8 significant bits) apart.
        TensorAssert.Close(expected, actual, 0, 1.0 / 128);
    }

    [Fact]
    public void Forward_Float16InputWhoseSquaresOverflowFloat16_StaysFinite()
    {
        using var norm = new RmsNorm(4, Eps);
        // 300² = 90 000 exceeds float16's largest value 65 504.
        using var input = tensor(new float[] { 300, -300, 300, -300 }).to(ScalarType.Float16);

        using var actual = norm.forward(input);

        Assert.Equal(ScalarType.Float16, actual.dtype);
        using var expected = tensor(new float[] { 1, -1, 1, -1 });
        TensorAssert.Close(expected, actual, 1e-3, 0);
    }

    [Fact]
    public void Ctor_GainStartsAtOneAndIsTheOnlyStateDictEntry()
    {
        using var norm = new RmsNorm(5);

        TensorAssert.Equal(ones(5), norm.Weight.detach());
        Assert.Equal(["weight"], norm.state_dict().Keys);
    }

    /// <summary>x / √(mean(x²) + ε) · g, in float64.</summary>
    static Tensor ClosedForm(Tensor input, Tensor gain)
    {
        using var scope = NewDisposeScope();
        var x = input.to(ScalarType.Float64);
        var rms = x.Squared().mean([-1], keepdim: true).Plus(Eps).sqrt();
        return (x / rms * gain.detach().to(ScalarType.Float64)).MoveToOuterDisposeScope();
    }
}
