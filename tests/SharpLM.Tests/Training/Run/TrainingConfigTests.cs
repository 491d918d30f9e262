using SharpLM.Model;
using SharpLM.Training;

namespace SharpLM.Tests.Training;

public class TrainingConfigTests
{
    [Fact]
    public void ModelConfig_ByDefault_IsTheHandoutsTinyStoriesModel()
    {
        Assert.Equal(TransformerConfig.TinyStories, new TrainingConfig().ModelConfig(10_000));
    }

    [Theory]
    [InlineData(FeedForwardKind.Swiglu, 512, 1344)] // the handout's TinyStories d_ff (§7.2)
    [InlineData(FeedForwardKind.Swiglu, 128, 320)] // 8/3·128 = 341 to the nearest multiple of 64
    [InlineData(FeedForwardKind.Silu, 512, 2048)] // 4·d_model (§7.3)
    [InlineData(FeedForwardKind.Silu, 32, 128)]
    public void ModelConfig_WithoutDFf_TakesTheFfnsDefaultForTheWidth(FeedForwardKind ffn, int dModel, int expected)
    {
        var config = new TrainingConfig { Ffn = ffn, DModel = dModel, NumHeads = 4 };

        Assert.Equal(expected, config.ModelConfig(300).DFf);
        Assert.Equal(100, (config with { DFf = 100 }).ModelConfig(300).DFf);
    }

    [Fact]
    public void Schedule_WithATokenBudgetAcrossProcesses_WarmsUpOverATenthOfTheirSteps()
    {
        // 2,048,000 tokens at 32 × 256 per process and step: 250 steps alone, ⌈2,048,000 / (4 · 8,192)⌉ = 63 for 4
        // processes, 16 for 16.
        var config = new TrainingConfig { TokenBudget = 2_048_000, BatchSize = 32, ContextLength = 256 };

        Assert.Equal((250, 25), (config.CycleItersAcross(1), config.WarmupStepsAcross(1)));
        Assert.Equal((63, 6), (config.CycleItersAcross(4), config.WarmupStepsAcross(4)));
        Assert.Equal((16, 1), (config.CycleItersAcross(16), config.WarmupStepsAcross(16)));
        config.Validate(16);
    }

    [Fact]
    public void Validate_AWarmUpLongerThanTheStepsAcrossTheProcesses_IsRefusedNamingThem()
    {
        var config = new TrainingConfig { TokenBudget = 2_048_000, BatchSize = 32, ContextLength = 256, WarmupIters = 100 };
        config.Validate(1);

        var error = Assert.Throws<ArgumentException>(() => config.Validate(4));

        Assert.Equal("warmup_iters (100) must not exceed cosine_cycle_iters (63: the steps of the token budget across 4 processes).", error.Message);
    }

    [Fact]
    public void Json_CarriesTheArchitectureOptionsInTheirConfigSpelling()
    {
        var config = new TrainingConfig
        {
            Norm = NormPlacement.Post,
            FinalNorm = false,
            Position = PositionEncoding.Nope,
            Ffn = FeedForwardKind.Silu,
            TieEmbeddings = true,
        };

        string json = config.ToJson();

        Assert.Contains("\"norm\": \"post\"", json, StringComparison.Ordinal);
        Assert.Contains("\"final_norm\": false", json, StringComparison.Ordinal);
        Assert.Contains("\"position\": \"nope\"", json, StringComparison.Ordinal);
        Assert.Contains("\"ffn\": \"silu\"", json, StringComparison.Ordinal);
        Assert.Contains("\"tie_embeddings\": true", json, StringComparison.Ordinal);
        var restored = TrainingConfig.FromJson(json);
        Assert.Equal(config.ModelConfig(300), restored.ModelConfig(300));
    }
}
