using static TorchSharp.torch;

namespace SharpLM.Tests;

public class NativeLibraryTests
{
    [Fact]
    public void Matmul_OnKnownMatrices_GivesClosedFormProduct()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        using var b = tensor(new float[] { 7, 8, 9, 10, 11, 12 }, 3, 2);
        using var product = matmul(a, b);
        Assert.Equal(new float[] { 58, 64, 139, 154 }, product.data<float>().ToArray());
    }
}
