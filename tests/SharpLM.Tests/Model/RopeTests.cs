using TorchSharp;
using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Tests.Model;

public class RopeTests
{
    const double Theta = 10_000;

    [Fact]
    public void Forward_EqualsDirectRotationOfEachPairAtArbitraryPositions()
    {
        using var generator = new Generator(50);
        using var rope = new Rope(Theta, 8, 64);
        using var input = randn([2, 5, 8], generator: generator);
        using var positions = tensor(new long[] { 7, 3, 0, 63, 2, 40, 41, 1, 1, 9 }, [2, 5]);

        using var actual = rope.forward(input, positions);

        using var expected = NaiveReferences.RotatePairs(input, positions, Theta);
        TensorAssert.Close(expected, actual, 1e-5, 1e-5);
    }

    [Fact]
    public void Forward_WithPositionsOfFewerDimensions_BroadcastsOverLeadingDimensions()
    {
        using var generator = new Generator(51);
        using var rope = new Rope(500, 4, 16);
        using var input = randn([3, 2, 6, 4], generator: generator); // (batch, heads, seq, dK)
        using var positions = tensor(new long[] { 5, 0, 15, 2, 2, 9 }); // (seq)

        using var actual = rope.forward(input, positions);

        using var expanded = positions.expand(3, 2, 6);
        using var expected = NaiveReferences.RotatePairs(input, expanded, 500);
        TensorAssert.Close(expected, actual, 1e-5, 1e-5);
    }

    [Fact]
    public void Forward_AtPositionZero_IsIdentity()
    {
        using var generator = new Generator(52);
        using var rope = new Rope(Theta, 6, 8);
        using var input = randn([4, 1, 6], generator: generator);
        using var positions = zeros([4, 1], ScalarType.Int64);

        using var actual = rope.forward(input, positions);

        TensorAssert.Equal(input, actual);
    }

    [Fact]
    public void Forward_WithoutPositions_EqualsPositionsZeroToSequenceLength()
    {
        using var generator = new Generator(53);
        using var rope = new Rope(Theta, 8, 16);
        using var input = randn([2, 7, 8], generator: generator);
        using var positions = HeldScalarMath.Range(7);

        using var sequential = rope.forward(input);
        using var explicitPositions = rope.forward(input, positions);

        TensorAssert.Equal(explicitPositions, sequential);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(0)]
    public void Ctor_WithOddOrEmptyDk_ThrowsNamingIt(long dK)
    {
        var error = Assert.Throws<ArgumentException>(() => new Rope(Theta, dK, 16));
        Assert.Contains($"{dK}", error.Message);
    }

    [Fact]
    public void Forward_WithPositionBeyondTheTable_ThrowsNamingPositionAndMaximum()
    {
        using var rope = new Rope(Theta, 4, 16);
        using var input = zeros(3, 4);
        using var positions = tensor(new long[] { 0, 16, 2 });

        var error = Assert.Throws<ArgumentException>(() => rope.forward(input, positions));
        Assert.Contains("16", error.Message);
    }

    [Fact]
    public void Forward_WithSequenceLongerThanTheTable_ThrowsNamingBothLengths()
    {
        using var rope = new Rope(Theta, 4, 16);
        using var input = zeros(17, 4);

        var error = Assert.Throws<ArgumentException>(() => rope.forward(input));
        Assert.Contains("17", error.Message);
        Assert.Contains("16", error.Message);
    }

    [Fact]
    public void Tables_AreNotInTheStateDictButFollowTo()
    {
        using var rope = new Rope(Theta, 4, 16);

        Assert.Empty(rope.state_dict());
        Assert.Empty(rope.parameters());
        rope.to(ScalarType.Float64);

        Assert.Equal(ScalarType.Float64, rope.CosTable.dtype);
        using var input = ones([2, 4], ScalarType.Float64);
        using var rotated = rope.forward(input, tensor(new long[] { 0, 1 }));
        Assert.Equal(ScalarType.Float64, rotated.dtype);
    }
}
