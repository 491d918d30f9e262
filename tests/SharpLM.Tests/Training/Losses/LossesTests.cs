using SharpLM.Training;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace SharpLM.Tests.Training;

public class LossesTests
{
    static (Tensor Logits, Tensor Targets) Case(long[] shape, int vocabularySize, ulong seed)
    {
        using var generator = new Generator(seed);
        var logits = randn([.. shape, vocabularySize], generator: generator);
        var targets = randint(vocabularySize, shape, generator: generator, dtype: ScalarType.Int64);
        return (logits, targets);
    }

    static Tensor Reference(Tensor logits, Tensor targets) =>
        cross_entropy(logits.reshape(-1, logits.shape[^1]), targets.reshape(-1));

    [Fact]
    public void CrossEntropy_OnHandoutShape_EqualsBuiltIn()
    {
        var (logits, targets) = Case([2, 4], 5, seed: 1);
        TensorAssert.Close(Reference(logits, targets), Losses.CrossEntropy(logits, targets));
    }

    [Fact]
    public void CrossEntropy_WithLogitsTimesThousand_IsFiniteAndEqualsBuiltIn()
    {
        var (logits, targets) = Case([2, 4], 5, seed: 1);
        var large = logits.Times(1000);
        var loss = Losses.CrossEntropy(large, targets);
        Assert.True(double.IsFinite(loss.item<float>()));
        TensorAssert.Close(Reference(large, targets), loss, atol: 1e-3);
    }

    [Theory]
    [InlineData(new long[] { 7 }, 11, 2UL)]
    [InlineData(new long[] { 3, 6 }, 50, 3UL)]
    [InlineData(new long[] { 2, 3, 4 }, 17, 4UL)]
    public void CrossEntropy_OnRandomShapes_EqualsBuiltIn(long[] batchShape, int vocabularySize, ulong seed)
    {
        var (logits, targets) = Case(batchShape, vocabularySize, seed);
        TensorAssert.Close(Reference(logits, targets), Losses.CrossEntropy(logits, targets));
    }

    [Fact]
    public void CrossEntropy_Gradient_EqualsBuiltInGradient()
    {
        var (logits, targets) = Case([3, 5], 13, seed: 5);
        var ours = logits.clone().requires_grad_(true);
        var theirs = logits.clone().requires_grad_(true);
        Losses.CrossEntropy(ours, targets).backward();
        Reference(theirs, targets).backward();
        TensorAssert.Close(theirs.grad!, ours.grad!);
    }

    [Fact]
    public void CrossEntropy_OnBFloat16Logits_ComputesInFloat32()
    {
        var (logits, targets) = Case([4], 9, seed: 6);
        var half = logits.to_type(ScalarType.BFloat16);
        TensorAssert.Close(Reference(half.to_type(ScalarType.Float32), targets), Losses.CrossEntropy(half, targets));
    }

    [Theory]
    [InlineData(5L)]
    [InlineData(-1L)]
    public void CrossEntropy_WithTargetOutsideVocabulary_ThrowsNamingTheId(long badId)
    {
        var (logits, targets) = Case([2, 3], 5, seed: 7);
        targets[1, 2] = tensor(badId);
        var exception = Assert.Throws<ArgumentException>(() => Losses.CrossEntropy(logits, targets));
        Assert.Contains(badId.ToString(System.Globalization.CultureInfo.InvariantCulture), exception.Message, StringComparison.Ordinal);
        Assert.Contains("[0, 5)", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CrossEntropy_WithMismatchedShapes_Throws()
    {
        var (logits, _) = Case([2, 3], 5, seed: 8);
        var exception = Assert.Throws<ArgumentException>(() => Losses.CrossEntropy(logits, zeros(3, 2, dtype: ScalarType.Int64)));
        Assert.Contains("(3, 2)", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CrossEntropy_WithFloatTargets_Throws()
    {
        var (logits, _) = Case([2], 5, seed: 9);
        Assert.Throws<ArgumentException>(() => Losses.CrossEntropy(logits, zeros(2)));
    }

    [Fact]
    public void Perplexity_IsExpOfMeanLoss()
    {
        var losses = tensor(new float[] { 1.0f, 2.0f, 3.0f });
        Assert.Equal(Math.Exp(2.0), Losses.Perplexity(losses), 1e-9);
    }

    [Fact]
    public void Perplexity_OfUniformPrediction_IsVocabularySize()
    {
        var logits = zeros(4, 10);
        var targets = tensor(new long[] { 0, 3, 5, 9 });
        Assert.Equal(10.0, Losses.Perplexity(Losses.CrossEntropyPerToken(logits, targets)), 1e-5);
    }
}
