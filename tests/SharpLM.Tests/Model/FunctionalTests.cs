using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Tests.Model;

public class FunctionalTests
{
    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(1)]
    public void Softmax_EqualsTorchSoftmax(long dim)
    {
        using var generator = new Generator(60);
        using var input = randn([3, 4, 5], generator: generator);

        using var actual = Functional.Softmax(input, dim);

        using var expected = softmax(input, (int)dim);
        TensorAssert.Close(expected, actual, 1e-7, 1e-6);
    }

    [Fact]
    public void Softmax_AfterAddingOneHundredToEveryInput_IsUnchangedAndFinite()
    {
        using var generator = new Generator(61);
        using var input = randn([4, 6], generator: generator);
        using var shifted = input.Plus(100); // exp(100) overflows float32

        using var actual = Functional.Softmax(shifted, -1);

        using var expected = softmax(input, -1);
        TensorAssert.Close(expected, actual, 1e-6, 1e-5);
        Assert.True(actual.isfinite().all().item<bool>());
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void ScaledDotProductAttention_EqualsTorchFunctional(bool fourDimensional, bool masked)
    {
        using var generator = new Generator(62);
        long[] leading = fourDimensional ? [2, 3] : [2];
        using var query = randn([.. leading, 4, 8], generator: generator);
        using var key = randn([.. leading, 6, 8], generator: generator);
        using var value = randn([.. leading, 6, 5], generator: generator);
        // Every query keeps at least one key, so no row is entirely masked.
        using var mask = masked ? HeldScalarMath.WithScalar(0.4, rand([4, 6], generator: generator).gt).logical_or(eye(4, 6, ScalarType.Bool)) : null;

        using var actual = Functional.ScaledDotProductAttention(query, key, value, mask);

        using var expected = nn.functional.scaled_dot_product_attention(query, key, value, mask);
        Assert.Equal([.. leading, 4L, 5], actual.shape);
        TensorAssert.Close(expected, actual, 1e-6, 1e-5);
    }

    [Fact]
    public void ScaledDotProductAttention_MaskedKeys_GetNoWeight()
    {
        using var query = zeros(1, 2);
        using var key = zeros(3, 2);
        using var value = tensor(new float[] { 1, 10, 100 }, [3, 1]);
        using var mask = tensor(new[] { true, true, false }, [1, 3]);

        using var actual = Functional.ScaledDotProductAttention(query, key, value, mask);

        // Equal scores: the mean of the two attended values, none of the masked one.
        Assert.Equal(5.5f, actual.item<float>(), 5);
    }

    [Fact]
    public void ScaledDotProductAttention_WithMismatchedKeySize_ThrowsNamingBothSizes()
    {
        using var query = zeros(2, 4, 8);
        using var key = zeros(2, 4, 6);
        using var value = zeros(2, 4, 6);

        var error = Assert.Throws<ArgumentException>(() => Functional.ScaledDotProductAttention(query, key, value));
        Assert.Contains("8", error.Message);
        Assert.Contains("6", error.Message);
    }

    [Fact]
    public void ScaledDotProductAttention_WithNonBooleanMask_Throws()
    {
        using var query = zeros(2, 4);
        using var mask = ones(2, 2);

        Assert.Throws<ArgumentException>(() => Functional.ScaledDotProductAttention(query, query, query, mask));
    }
}
