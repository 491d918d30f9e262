using SharpLM.Cli;

namespace SharpLM.Tests.Cli;

public class ExperimentCommandTests
{
    [Fact]
    public void LrTuning_WithDefaults_PrintsTenStepsAndAVerdictPerRate()
    {
        var result = CliRun.Of("experiment", "lr-tuning");
        Assert.Equal(ExitCodes.Success, result.ExitCode);
        string[] lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("step", lines[0], StringComparison.Ordinal);
        Assert.Contains("lr = 1e3", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("9 ", lines[10], StringComparison.Ordinal);
        Assert.Contains("1.3440e-01", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"verdict\s+\| decays\s+\| converges\s+\| diverges", result.Output);
    }

    [Fact]
    public void LrTuning_WithNegativeRate_FailsWithOneLineError()
    {
        var result = CliRun.Of("experiment", "lr-tuning", "--lr", "-1");
        Assert.Equal(ExitCodes.InputError, result.ExitCode);
        Assert.Equal("error: lr must be ≥ 0, got -1.", result.Error.Trim());
    }

    [Fact]
    public void LrTuning_WithZeroSteps_IsAUsageError()
    {
        var result = CliRun.Of("experiment", "lr-tuning", "--steps", "0");
        Assert.Equal(ExitCodes.UsageError, result.ExitCode);
        Assert.Contains("--steps must be at least 1", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_OnEveryCommand_ExitsZero()
    {
        foreach (var args in new[] { new[] { "--help" }, ["experiment", "--help"], ["experiment", "lr-tuning", "--help"] })
        {
            Assert.Equal(ExitCodes.Success, CliRun.Of(args).ExitCode);
        }
    }
}
