using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Tests.Model;

public class SwiGluTests
{
    [Fact]
    public void Forward_EqualsW2OfSiluW1xTimesW3x()
    {
        using var generator = new Generator(40);
        using var ffn = new SwiGlu(8, 24, generator: generator);
        using var input = randn([2, 5, 8], generator: generator);

        using var actual = ffn.forward(input);

        using var scope = NewDisposeScope();
        var gate = nn.functional.silu(nn.functional.linear(input, ffn.W1.Weight));
        var expected = nn.functional.linear(gate * nn.functional.linear(input, ffn.W3.Weight), ffn.W2.Weight);
        TensorAssert.Close(expected, actual, 1e-6, 1e-5);
    }

    [Fact]
    public void StateDict_HasTheReferenceKeysAndShapes()
    {
        using var ffn = new SwiGlu(8, 24);

        var stateDict = ffn.state_dict();

        Assert.Equal(["w1.weight", "w2.weight", "w3.weight"], stateDict.Keys.Order());
        Assert.Equal([24L, 8], stateDict["w1.weight"].shape);
        Assert.Equal([8L, 24], stateDict["w2.weight"].shape);
        Assert.Equal([24L, 8], stateDict["w3.weight"].shape);
    }

    [Theory]
    [InlineData(8, 64)] // 21.3, below the smallest multiple
    [InlineData(64, 192)] // 170.7 → 192
    [InlineData(128, 320)] // 341.3 → 320
    [InlineData(512, 1344)] // 1365.3 → 1344, the handout's TinyStories d_ff (§7.2)
    [InlineData(768, 2048)] // exactly 2048
    [InlineData(1600, 4288)] // 4266.7 → 4288
    public void DefaultFeedForwardSize_IsEightThirdsToTheNearestSixtyFour(long dModel, long expected)
    {
        long actual = SwiGlu.DefaultFeedForwardSize(dModel);

        Assert.Equal(expected, actual);
        Assert.Equal(0, actual % 64);
        Assert.InRange(Math.Abs(actual - 8.0 * dModel / 3), 0, dModel < 24 ? 64 : 32);
    }
}
