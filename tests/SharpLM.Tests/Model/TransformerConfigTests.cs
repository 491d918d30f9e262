using System.Text.Json;
using SharpLM.Model;

namespace SharpLM.Tests.Model;

public class TransformerConfigTests
{
    [Fact]
    public void Json_RoundTripsEveryField()
    {
        var config = TransformerConfig.TinyStories with { AttentionKernel = AttentionKernel.Reference, RopeTheta = 500.5 };

        var restored = TransformerConfig.FromJson(config.ToJson());

        Assert.Equal(config, restored);
    }

    [Fact]
    public void Json_UsesTheHandoutNamesAndNamesTheKernel()
    {
        using var document = JsonDocument.Parse(TransformerConfig.TinyStories.ToJson());
        var root = document.RootElement;

        Assert.Equal(10_000, root.GetProperty("vocab_size").GetInt32());
        Assert.Equal(256, root.GetProperty("context_length").GetInt32());
        Assert.Equal(512, root.GetProperty("d_model").GetInt32());
        Assert.Equal(4, root.GetProperty("num_layers").GetInt32());
        Assert.Equal(16, root.GetProperty("num_heads").GetInt32());
        Assert.Equal(1344, root.GetProperty("d_ff").GetInt32());
        Assert.Equal(10_000, root.GetProperty("rope_theta").GetDouble());
        Assert.Equal("Fused", root.GetProperty("attention_kernel").GetString());
        Assert.Equal("pre", root.GetProperty("norm").GetString());
        Assert.True(root.GetProperty("final_norm").GetBoolean());
        Assert.Equal("rope", root.GetProperty("position").GetString());
        Assert.Equal("swiglu", root.GetProperty("ffn").GetString());
        Assert.False(root.GetProperty("tie_embeddings").GetBoolean());
        Assert.Equal(13, root.EnumerateObject().Count());
    }

    [Fact]
    public void Json_OfTheArchitectureOptions_RoundTripsInTheirConfigSpelling()
    {
        var config = TransformerConfig.TinyStories with
        {
            Norm = NormPlacement.None,
            FinalNorm = false,
            Position = PositionEncoding.Nope,
            Ffn = FeedForwardKind.Silu,
            TieEmbeddings = true,
        };

        string json = config.ToJson();

        Assert.Contains("\"norm\": \"none\"", json);
        Assert.Contains("\"position\": \"nope\"", json);
        Assert.Contains("\"ffn\": \"silu\"", json);
        Assert.Equal(config, TransformerConfig.FromJson(json));
        Assert.Equal("no block norms, no final norm, NoPE, SiLU FFN, tied embeddings", config.DescribeOptions());
        Assert.Equal("pre-norm, final norm, RoPE, SwiGLU, untied head", TransformerConfig.TinyStories.DescribeOptions());
    }

    [Fact]
    public void Json_WithAnUnknownOptionValue_Throws()
    {
        const string json = """
            {"vocab_size": 100, "context_length": 16, "d_model": 32, "num_layers": 2, "num_heads": 4, "d_ff": 96, "rope_theta": 10000, "norm": "sandwich"}
            """;

        Assert.Throws<JsonException>(() => TransformerConfig.FromJson(json));
    }

    [Fact]
    public void Validate_WithNope_AllowsAnOddHeadSize()
    {
        var config = new TransformerConfig(100, 16, 30, 2, 2, 64, 10_000);

        Assert.Throws<ArgumentException>(config.Validate);
        (config with { Position = PositionEncoding.Nope }).Validate();
    }

    [Fact]
    public void Json_ThroughPlainJsonSerializer_AlsoRoundTrips()
    {
        var config = TransformerConfig.TinyStories with { AttentionKernel = AttentionKernel.Reference };

        string json = JsonSerializer.Serialize(config);

        Assert.Contains("\"attention_kernel\":\"Reference\"", json);
        Assert.Equal(config, JsonSerializer.Deserialize<TransformerConfig>(json));
    }

    [Fact]
    public void Json_SavedBeforeTheOptions_LoadsAsTheHandoutsModel()
    {
        const string json = """
            {"vocab_size": 100, "context_length": 16, "d_model": 32, "num_layers": 2, "num_heads": 4, "d_ff": 96, "rope_theta": 10000}
            """;

        var config = TransformerConfig.FromJson(json);

        Assert.Equal(AttentionKernel.Fused, config.AttentionKernel);
        Assert.Equal(new TransformerConfig(100, 16, 32, 2, 4, 96, 10_000), config);
        Assert.Equal(
            (NormPlacement.Pre, true, PositionEncoding.Rope, FeedForwardKind.Swiglu, false),
            (config.Norm, config.FinalNorm, config.Position, config.Ffn, config.TieEmbeddings));
    }

    [Fact]
    public void Json_WithUnknownKey_Throws()
    {
        const string json = """
            {"vocab_size": 100, "context_length": 16, "d_model": 32, "num_layers": 2, "num_heads": 4, "d_ff": 96, "rope_theta": 10000, "dropout": 0.1}
            """;

        var error = Assert.Throws<JsonException>(() => TransformerConfig.FromJson(json));
        Assert.Contains("dropout", error.Message);
    }

    [Fact]
    public void Json_WithMissingKey_Throws()
    {
        const string json = """
            {"vocab_size": 100, "context_length": 16, "d_model": 32, "num_layers": 2, "num_heads": 4, "d_ff": 96}
            """;

        var error = Assert.Throws<JsonException>(() => TransformerConfig.FromJson(json));
        Assert.Contains("rope_theta", error.Message);
    }

    [Theory]
    [InlineData(100, 16, 30, 4, "30", "4")] // d_model not divisible by num_heads
    [InlineData(100, 16, 24, 8, "24", "3")] // odd head size for RoPE
    [InlineData(0, 16, 32, 4, "vocab_size", "0")]
    [InlineData(100, -1, 32, 4, "context_length", "-1")]
    public void Validate_WithBadSizes_ThrowsNamingTheNumbers(int vocabSize, int contextLength, int dModel, int numHeads, string named, string alsoNamed)
    {
        var config = new TransformerConfig(vocabSize, contextLength, dModel, 2, numHeads, 64, 10_000);

        var error = Assert.Throws<ArgumentException>(config.Validate);
        Assert.Contains(named, error.Message);
        Assert.Contains(alsoNamed, error.Message);
    }
}
