using SharpLM.Cli;

namespace SharpLM.Tests.Cli;

public class ModelCommandTests
{
    [Fact]
    public void Describe_WithoutConfig_PrintsTinyStoriesAndItsParameterCounts()
    {
        var result = CliRun.Of("model", "describe");

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.Contains("\"d_model\": 512", result.Output, StringComparison.Ordinal);
        Assert.Contains("\"attention_kernel\": \"Fused\"", result.Output, StringComparison.Ordinal);
        Assert.Contains("parameters: 22,696,448", result.Output, StringComparison.Ordinal);
        Assert.Contains("non-embedding parameters: 17,576,448", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_WithConfigFile_CountsThatModel()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sharplm-model-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """
            {"vocab_size": 100, "context_length": 16, "d_model": 32, "num_layers": 2, "num_heads": 4, "d_ff": 96, "rope_theta": 10000, "attention_kernel": "Reference"}
            """);
        try
        {
            var result = CliRun.Of("model", "describe", "--config", path);

            Assert.Equal(ExitCodes.Success, result.ExitCode);
            // 2·100·32 + 2·(4·32² + 3·32·96 + 2·32) + 32
            Assert.Contains("parameters: 33,184", result.Output, StringComparison.Ordinal);
            Assert.Contains("\"attention_kernel\": \"Reference\"", result.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Describe_WithArchitectureOptions_ShowsThemAndCountsTheSmallerModel()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sharplm-model-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """
            {"vocab_size": 100, "context_length": 16, "d_model": 32, "num_layers": 2, "num_heads": 4, "d_ff": 128, "rope_theta": 10000,
             "norm": "none", "final_norm": false, "position": "nope", "ffn": "silu", "tie_embeddings": true}
            """);
        try
        {
            var result = CliRun.Of("model", "describe", "--config", path);

            Assert.Equal(ExitCodes.Success, result.ExitCode);
            Assert.Contains("\"norm\": \"none\"", result.Output, StringComparison.Ordinal);
            Assert.Contains("architecture: no block norms, no final norm, NoPE, SiLU FFN, tied embeddings", result.Output, StringComparison.Ordinal);
            // 100·32 + 2·(4·32² + 2·32·128): one shared matrix, no gains, two FFN matrices
            Assert.Contains("parameters: 27,776", result.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Describe_WithHeadsThatDoNotDivideDModel_FailsWithOneLineErrorNamingThem()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sharplm-model-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """
            {"vocab_size": 100, "context_length": 16, "d_model": 30, "num_layers": 2, "num_heads": 4, "d_ff": 96, "rope_theta": 10000}
            """);
        try
        {
            var result = CliRun.Of("model", "describe", "--config", path);

            Assert.Equal(ExitCodes.InputError, result.ExitCode);
            Assert.Equal("error: d_model 30 is not divisible by num_heads 4.", result.Error.Trim());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Describe_OnGpt2XlShape_CountsWithoutAllocatingTheWeights()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sharplm-model-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """
            {"vocab_size": 50257, "context_length": 1024, "d_model": 1600, "num_layers": 48, "num_heads": 25, "d_ff": 6400, "rope_theta": 10000}
            """);
        try
        {
            var result = CliRun.Of("model", "describe", "--config", path);

            Assert.Equal(ExitCodes.Success, result.ExitCode);
            // 2·50257·1600 + 48·(4·1600² + 3·1600·6400 + 2·1600) + 1600: the handout's transformer_accounting (a)
            Assert.Contains("parameters: 2,127,057,600", result.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Help_OnModelCommands_ExitsZero()
    {
        Assert.Equal(ExitCodes.Success, CliRun.Of("model", "--help").ExitCode);
        Assert.Equal(ExitCodes.Success, CliRun.Of("model", "describe", "--help").ExitCode);
    }
}
