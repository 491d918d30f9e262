using static TorchSharp.torch;

namespace SharpLM.Tests;

/// <summary>Tensor comparisons that report the largest difference when they fail.</summary>
public static class TensorAssert
{
    public static void Close(Tensor expected, Tensor actual, double atol = 1e-6, double rtol = 1e-5)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scope = NewDisposeScope();
        var e = expected.detach().to_type(ScalarType.Float64).cpu();
        var a = actual.detach().to_type(ScalarType.Float64).cpu();
        double worst = (e - a).abs().max().item<double>();
        Assert.True(allclose(a, e, rtol, atol), $"tensors differ: largest absolute difference {worst:g6} (atol {atol:g3}, rtol {rtol:g3})");
    }

    public static void Equal(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(expected.dtype, actual.dtype);
        using var scope = NewDisposeScope();
        Assert.True(expected.cpu().eq(actual.cpu()).all().item<bool>(), "tensors are not bit-identical");
    }
}
