using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Tests.Model;

public class SiluFeedForwardTests
{
    [Fact]
    public void Forward_EqualsW2OfSiluW1x()
    {
        using var generator = new Generator(41);
        using var ffn = new SiluFeedForward(8, 32, generator: generator);
        using var input = randn([2, 5, 8], generator: generator);

        using var actual = ffn.forward(input);

        using var scope = NewDisposeScope();
        var expected = nn.functional.linear(nn.functional.silu(nn.functional.linear(input, ffn.W1.Weight)), ffn.W2.Weight); // eq. 25
        TensorAssert.Close(expected, actual, 1e-6, 1e-5);
    }

    [Fact]
    public void StateDict_HasSwiGlusKeysWithoutW3()
    {
        using var ffn = new SiluFeedForward(8, 32);

        var stateDict = ffn.state_dict();

        Assert.Equal(["w1.weight", "w2.weight"], stateDict.Keys.Order());
        Assert.Equal([32L, 8], stateDict["w1.weight"].shape);
        Assert.Equal([8L, 32], stateDict["w2.weight"].shape);
    }

    [Fact]
    public void DefaultFeedForwardSize_IsFourDModel_AndNearlyMatchesSwiGlusParameters()
    {
        Assert.Equal(2048, SiluFeedForward.DefaultFeedForwardSize(512));
        // §7.3: two d×4d matrices against SwiGLU's three d×1344 ones at d_model 512, within 2%.
        long silu = 2L * 512 * SiluFeedForward.DefaultFeedForwardSize(512);
        long swiGlu = 3L * 512 * SwiGlu.DefaultFeedForwardSize(512);
        Assert.InRange(silu / (double)swiGlu, 1.0, 1.02);
    }
}
