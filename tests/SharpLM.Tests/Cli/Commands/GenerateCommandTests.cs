using SharpLM.Cli;

namespace SharpLM.Tests.Cli.Commands;

[Collection(TrainedRunCollection.Name)]
public sealed class GenerateCommandTests(TrainedRunFixture run)
{
    [Fact]
    public void Generate_SeveralSamples_PrintsEachWithStats_AndTheBatchSizeDoesNotChangeThem()
    {
        string[] common = ["generate", "--checkpoint", run.Run, "--prompt", "Once", "--max-tokens", "12", "--temperature", "1.5", "--seed", "3", "--num-samples", "3", "--ignore-eos"];
        var batched = CliRun.Of([.. common, "--stats"]);
        var oneByOne = CliRun.Of([.. common, "--batch-size", "1"]);
        Assert.True(batched.ExitCode == ExitCodes.Success, batched.Error);
        Assert.Equal(batched.Output, oneByOne.Output);
        Assert.Equal(3, batched.Output.Split("--- sample ").Length - 1);
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(batched.Error, @"sample \d: 12 tokens, reached --max-tokens").Count);
        Assert.Matches(@"prefill: \d+ tokens in [\d.]+ ms, [\d.]+ tokens/s; decode: 33 tokens in [\d.]+ ms, [\d.]+ tokens/s", batched.Error);
        Assert.DoesNotContain("prefill:", oneByOne.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_WithOneTokenTakenFromThePrefill_ReportsNoDecodeRate()
    {
        var result = CliRun.Of("generate", "--checkpoint", run.Run, "--prompt", "Once", "--max-tokens", "1", "--ignore-eos", "--stats");
        Assert.True(result.ExitCode == ExitCodes.Success, result.Error);
        Assert.Matches(@"prefill: \d+ tokens in [\d.]+ ms, [\d.]+ tokens/s; decode: 0 tokens\r?\n", result.Error);
        Assert.DoesNotContain("NaN", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_WithZeroSamples_IsAUsageError()
    {
        var result = CliRun.Of("generate", "--checkpoint", run.Run, "--num-samples", "0");
        Assert.Equal(ExitCodes.UsageError, result.ExitCode);
        Assert.Contains("--num-samples must be at least 1", result.Error, StringComparison.Ordinal);
    }
}
