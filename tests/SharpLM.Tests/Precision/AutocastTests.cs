using SharpLM.Model;
using SharpLM.Precision;
using SharpLM.Training;
using static TorchSharp.torch;

namespace SharpLM.Tests.Precision;

public class AutocastTests
{
    [Fact]
    public void Linear_UnderBf16_EqualsTheBuiltInLinearOfBf16CastsAndStaysBf16()
    {
        using var generator = new Generator(1);
        using var linear = new Linear(64, 48, generator: generator);
        using var input = randn([3, 5, 64], generator: generator);

        using var expected = nn.functional.linear(input.to(ScalarType.BFloat16), linear.Weight.to(ScalarType.BFloat16));
        Tensor actual;
        using (Autocast.Enter(PrecisionSetting.Bf16))
        {
            actual = linear.call(input);
        }

        TensorAssert.Equal(expected, actual);
        actual.Dispose();
    }

    [Fact]
    public void Linear_UnderBf16_GivesTheFloat32WeightAFloat32GradientOfTheBf16Product()
    {
        using var generator = new Generator(2);
        using var linear = new Linear(32, 16, generator: generator);
        using var input = randn([8, 32], generator: generator);
        using var upstream = randn([8, 16], generator: generator);

        using (Autocast.Enter(PrecisionSetting.Bf16))
        {
            using var output = linear.call(input);
            using var seeded = (output * upstream.to(ScalarType.BFloat16)).sum();
            seeded.backward();
        }

        // Closed form: dL/dW = upstreamᵀ · input, both rounded to bf16, accumulated in float32, rounded to bf16.
        using var expected = upstream.to(ScalarType.BFloat16).t().matmul(input.to(ScalarType.BFloat16)).to(ScalarType.Float32);
        Assert.Equal(ScalarType.Float32, linear.Weight.dtype);
        Assert.Equal(ScalarType.Float32, linear.Weight.grad!.dtype);
        TensorAssert.Equal(expected, linear.Weight.grad!);
    }

    [Fact]
    public void Fp32Scope_ChangesNothing()
    {
        using var generator = new Generator(3);
        using var linear = new Linear(16, 8, generator: generator);
        using var input = randn([4, 16], generator: generator);

        using var outside = linear.call(input);
        Tensor inside;
        using (Autocast.Enter(PrecisionSetting.Fp32))
        {
            inside = linear.call(input);
        }

        TensorAssert.Equal(outside, inside);
        inside.Dispose();
    }

    [Fact]
    public void Enter_NestedScopes_RestoreTheOuterSettingOnExit()
    {
        Assert.Null(Autocast.ComputeType);
        using (Autocast.Enter(PrecisionSetting.Bf16))
        {
            using (Autocast.Enter(PrecisionSetting.Fp32))
            {
                Assert.Null(Autocast.ComputeType);
            }
            Assert.Equal(ScalarType.BFloat16, Autocast.ComputeType);
        }
        Assert.Null(Autocast.ComputeType);
    }

    [Fact]
    public void Enter_Auto_IsRefusedUntilResolved()
    {
        var error = Assert.Throws<ArgumentException>(() => Autocast.Enter(PrecisionSetting.Auto));
        Assert.Contains("PrecisionChoice.Resolve", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Softmax_OfBf16Scores_TakesItsStatisticsInFloat32()
    {
        using var generator = new Generator(4);
        using var scores = randn([4, 300], generator: generator).Times(8).to(ScalarType.BFloat16);

        using var actual = Functional.Softmax(scores, -1);

        using var expected = scores.to(ScalarType.Float32).softmax(-1).to(ScalarType.BFloat16);
        TensorAssert.Equal(expected, actual);
    }

    [Fact]
    public void Rope_OfBf16Queries_RotatesInFloat32()
    {
        using var rope = new Rope(10_000, 16, 64);
        using var generator = new Generator(5);
        using var query = randn([2, 64, 16], generator: generator).to(ScalarType.BFloat16);

        using var actual = rope.forward(query);

        using var expected = rope.forward(query.to(ScalarType.Float32)).to(ScalarType.BFloat16);
        TensorAssert.Equal(expected, actual);
    }

    [Theory]
    [InlineData(AttentionKernel.Fused)]
    [InlineData(AttentionKernel.Reference)]
    public void Model_UnderBf16_GivesLogitsAndLossCloseToFloat32(AttentionKernel kernel)
    {
        var config = new TransformerConfig(97, 32, 64, 2, 4, 128, 10_000) { AttentionKernel = kernel };
        using var generator = new Generator(6);
        using var model = new TransformerLM(config, generator: generator);
        using var tokens = randint(97, [4, 33], generator: generator, dtype: ScalarType.Int64);
        using var inputs = tokens.narrow(1, 0, 32);
        using var targets = tokens.narrow(1, 1, 32);
        using var noGrad = no_grad();

        using var reference = model.call(inputs);
        using var referenceLoss = Losses.CrossEntropy(reference, targets);
        Tensor logits;
        using (Autocast.Enter(PrecisionSetting.Bf16))
        {
            logits = model.call(inputs);
        }
        using var loss = Losses.CrossEntropy(logits, targets);

        Assert.Equal(ScalarType.BFloat16, logits.dtype);
        Assert.Equal(ScalarType.Float32, loss.dtype);
        // bf16 keeps 8 significant bits: logits of size ~1 move by about 2⁻⁸ per rounding, a few roundings deep.
        TensorAssert.Close(reference, logits, atol: 0.05, rtol: 0.02);
        Assert.InRange(loss.item<float>() - referenceLoss.item<float>(), -0.01, 0.01);
        logits.Dispose();
    }
}
