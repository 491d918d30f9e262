using SharpLM.Numerics;
using SharpLM.Training;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace SharpLM.Tests.Training;

/// <summary>Every cross-entropy kernel against functional.cross_entropy, in value and gradient, on both of its paths.</summary>
public class CrossEntropyKernelTests
{
    public static TheoryData<string> Kernels => new(CrossEntropyKernels.ByName.Keys);

    static (Tensor Logits, Tensor Targets) Case(long rows, long vocabularySize, ulong seed, double scale = 3, ScalarType dtype = ScalarType.Float32)
    {
        using var generator = new Generator(seed);
        var logits = randn([rows, vocabularySize], generator: generator, dtype: dtype).Times(scale); // (N, V)
        var targets = randint(vocabularySize, [rows], generator: generator, dtype: ScalarType.Int64);  // (N)
        return (logits, targets);
    }

    /// <summary>Loss and gradient of <paramref name="loss"/> at <paramref name="logits"/>.</summary>
    static (Tensor Loss, Tensor Gradient) LossAndGradient(Tensor logits, Func<Tensor, Tensor> loss)
    {
        var input = logits.detach().clone().requires_grad_(true);
        var value = loss(input);
        value.backward();
        return (value.detach(), input.grad!);
    }

    static void AssertEqualsBuiltIn(Tensor logits, Tensor targets, string kernelName, double atol = 1e-6)
    {
        var kernel = CrossEntropyKernels.ByName[kernelName];
        var (expectedLoss, expectedGradient) = LossAndGradient(logits, l => cross_entropy(l, targets));
        var (actualLoss, actualGradient) = LossAndGradient(logits, l => Losses.CrossEntropy(l, targets, kernel));
        TensorAssert.Close(expectedLoss, actualLoss, atol: atol, rtol: 1e-6);
        TensorAssert.Close(expectedGradient, actualGradient, atol: 1e-9, rtol: 1e-5);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CrossEntropy_OnVocabularyNotAMultipleOfTheVectorWidth_EqualsBuiltIn(string kernel)
    {
        var (logits, targets) = Case(rows: 37, vocabularySize: 1003, seed: 1);
        AssertEqualsBuiltIn(logits, targets, kernel);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CrossEntropy_OnVocabularyShorterThanOneVector_EqualsBuiltIn(string kernel)
    {
        var (logits, targets) = Case(rows: 9, vocabularySize: 5, seed: 2);
        AssertEqualsBuiltIn(logits, targets, kernel);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CrossEntropy_OnEnoughRowsToSplitAcrossThreads_EqualsBuiltIn(string kernel)
    {
        var (logits, targets) = Case(rows: 700, vocabularySize: 1000, seed: 3);
        AssertEqualsBuiltIn(logits, targets, kernel);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CrossEntropy_OnLogitsTimesThousand_EqualsBuiltIn(string kernel)
    {
        var (logits, targets) = Case(rows: 16, vocabularySize: 100, seed: 4, scale: 3000);
        AssertEqualsBuiltIn(logits, targets, kernel, atol: 1e-2); // losses in the thousands
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CrossEntropy_OnFloat64Logits_EqualsBuiltIn(string kernel)
    {
        var (logits, targets) = Case(rows: 12, vocabularySize: 30, seed: 5, dtype: ScalarType.Float64);
        AssertEqualsBuiltIn(logits, targets, kernel);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CrossEntropy_OnTransposedLogits_EqualsBuiltIn(string kernel)
    {
        var (logits, targets) = Case(rows: 40, vocabularySize: 24, seed: 6);
        var strided = logits.t().contiguous().t(); // same values, column-major
        Assert.False(strided.is_contiguous());
        AssertEqualsBuiltIn(strided, targets, kernel);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CrossEntropyPerToken_WithUnequalWeightsPerToken_HasBuiltInGradient(string kernelName)
    {
        // A weighted sum makes ∂L/∂ℓᵢ differ per token, which the hand-written backward must scale by.
        var (logits, targets) = Case(rows: 3 * 5, vocabularySize: 50, seed: 7);
        var weights = linspace(-1, 2, 15).reshape(3, 5);                                    // (3, 5)
        var batchLogits = logits.reshape(3, 5, 50);                                         // (3, 5, V)
        var batchTargets = targets.reshape(3, 5);                                           // (3, 5)
        var kernel = CrossEntropyKernels.ByName[kernelName];
        var (expectedLoss, expectedGradient) = LossAndGradient(batchLogits,
            l => (cross_entropy(l.reshape(-1, 50), batchTargets.reshape(-1), reduction: nn.Reduction.None).reshape(3, 5) * weights).sum());
        var (actualLoss, actualGradient) = LossAndGradient(batchLogits,
            l => (Losses.CrossEntropyPerToken(l, batchTargets, kernel) * weights).sum());
        TensorAssert.Close(expectedLoss, actualLoss, atol: 1e-5);
        TensorAssert.Close(expectedGradient, actualGradient, atol: 1e-7, rtol: 1e-5);
        Assert.Equal([3L, 5L], Losses.CrossEntropyPerToken(batchLogits, batchTargets, kernel).shape);
    }

    [Fact]
    public void CrossEntropy_WithoutGradient_GivesTheSameLossAndBuildsNoGraph()
    {
        var (logits, targets) = Case(rows: 20, vocabularySize: 64, seed: 8);
        using var noGrad = no_grad();
        var loss = Losses.CrossEntropy(logits, targets, CrossEntropyKernel.Fused);
        Assert.False(loss.requires_grad);
        TensorAssert.Close(cross_entropy(logits, targets), loss);
    }

    [Fact]
    public void ExpOfNonPositive_OverItsDomain_IsWithinTwoUlpOfExp()
    {
        var x = linspace(-87, 0, 100_003).data<float>().ToArray();
        int worst = x.Max(v => Math.Abs(BitConverter.SingleToInt32Bits(SimdMath.ExpOfNonPositive(v))
            - BitConverter.SingleToInt32Bits((float)Math.Exp(v))));
        Assert.True(worst <= 2, $"largest error {worst} ulp");
        Assert.Equal(1f, SimdMath.ExpOfNonPositive(0f));
    }

    [Fact]
    public void ExpOfNonPositive_BelowTheNormalRangeOrNaN_IsTinyOrNaN()
    {
        Assert.InRange(SimdMath.ExpOfNonPositive(-1000f), 0f, 2e-38f);
        Assert.InRange(SimdMath.ExpOfNonPositive(float.NegativeInfinity), 0f, 2e-38f);
        Assert.True(float.IsNaN(SimdMath.ExpOfNonPositive(float.NaN)));
    }
}
