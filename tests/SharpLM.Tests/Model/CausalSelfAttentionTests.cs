using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Tests.Model;

public class CausalSelfAttentionTests
{
    const long DModel = 16;
    const int NumHeads = 4;
    const double Theta = 10_000;

    public static TheoryData<AttentionKernel> Kernels => [.. Enum.GetValues<AttentionKernel>()];

    public static TheoryData<AttentionKernel, bool> KernelsWithAndWithoutRope
    {
        get
        {
            var data = new TheoryData<AttentionKernel, bool>();
            foreach (var kernel in Enum.GetValues<AttentionKernel>())
            {
                data.Add(kernel, false);
                data.Add(kernel, true);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(KernelsWithAndWithoutRope))]
    public void Forward_EqualsNaivePerHeadReference(AttentionKernel kernel, bool withRope)
    {
        using var generator = new Generator(70);
        using var rope = withRope ? new Rope(Theta, DModel / NumHeads, 8) : null;
        using var attention = new CausalSelfAttention(DModel, NumHeads, rope, kernel, generator: generator);
        using var input = randn([2, 5, DModel], generator: generator);

        using var actual = attention.forward(input);

        Assert.Equal([2L, 5, DModel], actual.shape);
        for (int batch = 0; batch < 2; batch++)
        {
            using var expected = NaiveReferences.PerHeadAttention(
                input[batch], attention.QueryProjection.Weight, attention.KeyProjection.Weight,
                attention.ValueProjection.Weight, attention.OutputProjection.Weight, NumHeads, withRope ? Theta : null);
            using var actualRow = actual[batch];
            TensorAssert.Close(expected, actualRow, 1e-5, 1e-4);
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Forward_ChangingTheTokenAtJ_LeavesOutputsBeforeJUnchanged(AttentionKernel kernel)
    {
        const int j = 3;
        using var generator = new Generator(71);
        using var rope = new Rope(Theta, DModel / NumHeads, 8);
        using var attention = new CausalSelfAttention(DModel, NumHeads, rope, kernel, generator: generator);
        using var input = randn([1, 6, DModel], generator: generator);
        using var changed = input.clone();
        using (no_grad())
        {
            changed[0, j] = randn([DModel], generator: generator);
        }

        using var before = attention.forward(input);
        using var after = attention.forward(changed);

        using var earlierBefore = before[.., ..j];
        using var earlierAfter = after[.., ..j];
        TensorAssert.Close(earlierBefore, earlierAfter, 1e-6, 1e-6);
        for (int position = j; position < 6; position++)
        {
            using var a = before[0, position];
            using var b = after[0, position];
            Assert.False(allclose(a, b), $"output at position {position} did not change");
        }
    }

    [Fact]
    public void Kernels_GiveTheSameOutputsAndGradients()
    {
        var outputs = new List<Tensor>();
        var gradients = new List<Dictionary<string, Tensor>>();
        using var generator = new Generator(72);
        using var input = randn([2, 7, DModel], generator: generator);
        using var outputWeights = randn([2, 7, DModel], generator: generator);
        foreach (var kernel in Enum.GetValues<AttentionKernel>())
        {
            using var weightGenerator = new Generator(73);
            using var rope = new Rope(Theta, DModel / NumHeads, 8);
            using var attention = new CausalSelfAttention(DModel, NumHeads, rope, kernel, generator: weightGenerator);
            using var leaf = input.clone().requires_grad_();

            var output = attention.forward(leaf);
            using (var loss = (output * outputWeights).sum())
            {
                loss.backward();
            }

            outputs.Add(output.detach());
            var grads = attention.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
            grads["input"] = leaf.grad!.clone();
            gradients.Add(grads);
        }

        TensorAssert.Close(outputs[0], outputs[1], 1e-5, 1e-4);
        Assert.Equal(5, gradients[0].Count);
        foreach (var (name, reference) in gradients[0])
        {
            TensorAssert.Close(reference, gradients[1][name], 1e-5, 1e-4);
        }
    }

    [Fact]
    public void Forward_WithAllPositionsShifted_IsUnchangedBecauseRopeIsRelative()
    {
        using var generator = new Generator(74);
        using var rope = new Rope(Theta, DModel / NumHeads, 32);
        using var attention = new CausalSelfAttention(DModel, NumHeads, rope, generator: generator);
        using var input = randn([2, 5, DModel], generator: generator);
        using var shiftedPositions = HeldScalarMath.Range(10, 15).expand(2, 5);

        using var fromZero = attention.forward(input);
        using var shifted = attention.forward(input, shiftedPositions);

        TensorAssert.Close(fromZero, shifted, 1e-5, 1e-4);
    }

    [Fact]
    public void Ctor_WithDModelNotDivisibleByNumHeads_ThrowsNamingBoth()
    {
        var error = Assert.Throws<ArgumentException>(() => new CausalSelfAttention(30, 4));
        Assert.Contains("30", error.Message);
        Assert.Contains("4", error.Message);
    }

    [Fact]
    public void Ctor_WithRopeOfAnotherHeadSize_ThrowsNamingBothSizes()
    {
        using var rope = new Rope(Theta, 8, 16);

        var error = Assert.Throws<ArgumentException>(() => new CausalSelfAttention(DModel, NumHeads, rope));
        Assert.Contains("8", error.Message);
        Assert.Contains("= 4", error.Message);
    }

    [Fact]
    public void StateDict_HasTheReferenceProjectionKeysOnly()
    {
        using var rope = new Rope(Theta, DModel / NumHeads, 8);
        using var attention = new CausalSelfAttention(DModel, NumHeads, rope);

        Assert.Equal(
            ["k_proj.weight", "output_proj.weight", "q_proj.weight", "v_proj.weight"],
            attention.state_dict().Keys.Order());
    }
}
