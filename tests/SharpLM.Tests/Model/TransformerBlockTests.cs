using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Tests.Model;

public class TransformerBlockTests
{
    [Fact]
    public void Forward_EqualsPreNormResidualComposition()
    {
        using var generator = new Generator(90);
        using var rope = new Rope(10_000, 4, 8);
        using var block = new TransformerBlock(16, 4, 40, rope, generator: generator);
        using (no_grad())
        {
            // Distinct gains, so that swapping ln1 and ln2 would show.
            block.AttentionNorm.Weight.copy_(rand([16], generator: generator) + 0.5);
            block.FeedForwardNorm.Weight.copy_(rand([16], generator: generator) + 0.5);
        }
        using var input = randn([2, 6, 16], generator: generator);

        using var actual = block.forward(input);

        using var scope = NewDisposeScope();
        var afterAttention = input + block.Attention.forward(block.AttentionNorm.forward(input)); // eq. 15
        var expected = afterAttention + block.FeedForward.forward(block.FeedForwardNorm.forward(afterAttention));
        TensorAssert.Close(expected, actual, 1e-6, 1e-5);
    }

    [Fact]
    public void StateDict_HasTheReferenceKeys()
    {
        using var block = new TransformerBlock(16, 4, 40);

        Assert.Equal(
            [
                "attn.k_proj.weight", "attn.output_proj.weight", "attn.q_proj.weight", "attn.v_proj.weight",
                "ffn.w1.weight", "ffn.w2.weight", "ffn.w3.weight", "ln1.weight", "ln2.weight",
            ],
            block.state_dict().Keys.Order(StringComparer.Ordinal));
    }
}
