using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Tests.Model;

public class EmbeddingTests
{
    [Fact]
    public void Forward_EqualsIndexingTheWeightRowByRow()
    {
        using var generator = new Generator(20);
        using var embedding = new Embedding(7, 3, generator: generator);
        long[] ids = [6, 0, 3, 3, 1, 5];
        using var tokenIds = tensor(ids, [2, 3]);

        using var actual = embedding.forward(tokenIds);

        Assert.Equal([2L, 3, 3], actual.shape);
        for (int i = 0; i < ids.Length; i++)
        {
            using var row = embedding.Weight[ids[i]];
            using var looked = actual[i / 3, i % 3];
            TensorAssert.Equal(row, looked);
        }
    }

    [Fact]
    public void Forward_WithInt32Ids_EqualsInt64Ids()
    {
        using var generator = new Generator(22);
        using var embedding = new Embedding(7, 3, generator: generator);
        using var longIds = tensor(new long[] { 6, 0, 3 });
        using var intIds = tensor(new int[] { 6, 0, 3 });

        using var expected = embedding.forward(longIds);
        using var actual = embedding.forward(intIds);

        TensorAssert.Equal(expected, actual);
    }

    [Fact]
    public void Init_StdIsWithinFivePercentOfOneAndNothingIsBeyondThree()
    {
        using var generator = new Generator(21);
        using var embedding = new Embedding(500, 64, generator: generator);

        double std = embedding.Weight.std().item<float>();
        Assert.InRange(std, 0.95, 1.05);
        Assert.True(embedding.Weight.abs().max().item<float>() <= 3f);
        Assert.Equal(["weight"], embedding.state_dict().Keys);
    }

    [Theory]
    [InlineData(7L, "7")]
    [InlineData(-1L, "-1")]
    public void Forward_WithIdOutsideTheVocabulary_ThrowsNamingTheId(long badId, string named)
    {
        using var embedding = new Embedding(7, 3);
        using var tokenIds = tensor(new long[] { 0, badId, 2 });

        var error = Assert.Throws<ArgumentException>(() => embedding.forward(tokenIds));
        Assert.Contains(named, error.Message);
        Assert.Contains("[0, 7)", error.Message);
    }

    [Fact]
    public void Forward_WithFloatIds_Throws()
    {
        using var embedding = new Embedding(7, 3);
        using var tokenIds = tensor(new float[] { 0, 1 });

        Assert.Throws<ArgumentException>(() => embedding.forward(tokenIds));
    }
}
