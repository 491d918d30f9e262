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
            block.AttentionNorm!.Weight.copy_(rand([16], generator: generator).Plus(0.5));
            block.FeedForwardNorm!.Weight.copy_(rand([16], generator: generator).Plus(0.5));
        }
        using var input = randn([2, 6, 16], generator: generator);

        using var actual = block.forward(input);

        using var scope = NewDisposeScope();
        var afterAttention = input.Plus(block.Attention.forward(block.AttentionNorm!.forward(input))); // eq. 15
        var expected = afterAttention.Plus(block.FeedForward.forward(block.FeedForwardNorm!.forward(afterAttention)));
        TensorAssert.Close(expected, actual, 1e-6, 1e-5);
    }

    /// <summary>RMSNorm (eq. 4) from TorchSharp built-ins, independent of <see cref="RmsNorm"/>.</summary>
    static Tensor ReferenceRmsNorm(Tensor x, Tensor gain, double eps = 1e-5) =>
        x * x.Squared().mean([-1], keepdim: true).Plus(eps).rsqrt() * gain;

    static TransformerBlock BlockWithDistinctGains(NormPlacement norm, Generator generator)
    {
        var block = new TransformerBlock(16, 4, 40, new Rope(10_000, 4, 8), generator: generator, norm: norm);
        using (no_grad())
        {
            block.AttentionNorm?.Weight.copy_(rand([16], generator: generator).Plus(0.5));
            block.FeedForwardNorm?.Weight.copy_(rand([16], generator: generator).Plus(0.5));
        }
        return block;
    }

    [Fact]
    public void Forward_PostNorm_NormalisesAfterEachResidualSum()
    {
        using var generator = new Generator(91);
        using var block = BlockWithDistinctGains(NormPlacement.Post, generator);
        using var input = randn([2, 6, 16], generator: generator);

        using var actual = block.forward(input);

        using var scope = NewDisposeScope();
        var z = ReferenceRmsNorm(input.Plus(block.Attention.forward(input)), block.AttentionNorm!.Weight); // z = RMSNorm(x + MHA(x))
        var expected = ReferenceRmsNorm(z.Plus(block.FeedForward.forward(z)), block.FeedForwardNorm!.Weight); // y = RMSNorm(z + FFN(z))
        TensorAssert.Close(expected, actual, 1e-6, 1e-5);
        // The last operation is the norm: each position's output divided by ln2's gain has unit RMS.
        var rms = (actual / block.FeedForwardNorm.Weight).Squared().mean([-1]).sqrt();
        TensorAssert.Close(ones_like(rms), rms, 1e-4, 1e-4);
    }

    [Fact]
    public void Forward_WithoutNorms_IsTheBareResidualComposition()
    {
        using var generator = new Generator(92);
        using var block = BlockWithDistinctGains(NormPlacement.None, generator);
        using var input = randn([2, 6, 16], generator: generator);

        using var actual = block.forward(input);

        using var scope = NewDisposeScope();
        Assert.Null(block.AttentionNorm);
        Assert.Null(block.FeedForwardNorm);
        var z = input.Plus(block.Attention.forward(input));
        var expected = z.Plus(block.FeedForward.forward(z));
        TensorAssert.Close(expected, actual, 1e-6, 1e-5);
    }

    [Fact]
    public void Forward_ThePlacements_GiveDifferentOutputsFromTheSameWeights()
    {
        using var generator = new Generator(93);
        using var pre = BlockWithDistinctGains(NormPlacement.Pre, generator);
        using var post = new TransformerBlock(16, 4, 40, new Rope(10_000, 4, 8), norm: NormPlacement.Post);
        using var none = new TransformerBlock(16, 4, 40, new Rope(10_000, 4, 8), norm: NormPlacement.None);
        post.load_state_dict(pre.state_dict());
        none.load_state_dict(pre.state_dict(), strict: false);
        using var input = randn([2, 6, 16], generator: generator);

        using var preOutput = pre.forward(input);
        using var postOutput = post.forward(input);
        using var noneOutput = none.forward(input);

        Assert.False(allclose(preOutput, postOutput, 1e-3, 1e-3));
        Assert.False(allclose(preOutput, noneOutput, 1e-3, 1e-3));
        Assert.False(allclose(postOutput, noneOutput, 1e-3, 1e-3));
    }

    [Fact]
    public void StateDict_WithoutNormsOrGate_DropsThoseKeysOnly()
    {
        using var block = new TransformerBlock(16, 4, 40, norm: NormPlacement.None, ffn: FeedForwardKind.Silu);

        Assert.Equal(
            ["attn.k_proj.weight", "attn.output_proj.weight", "attn.q_proj.weight", "attn.v_proj.weight", "ffn.w1.weight", "ffn.w2.weight"],
            block.state_dict().Keys.Order(StringComparer.Ordinal));
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
