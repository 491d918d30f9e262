using SharpLM.Cli;

namespace SharpLM.Tests.Cli;

/// <summary>The command tree as a whole: its name in help and in errors.</summary>
public class CliAppTests
{
    [Fact]
    public void Help_OfANestedVerb_NamesTheCommandSharplm()
    {
        var result = CliRun.Of("tokenizer", "train", "--help");

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.Contains("Usage:\n  sharplm tokenizer train [options]", result.Output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.DoesNotContain("SharpLM.Cli", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void UsageError_PointsToTheHelpOfTheVerbThatFailed()
    {
        var result = CliRun.Of("tokenizer", "train", "--no-such-flag");

        Assert.Equal(ExitCodes.UsageError, result.ExitCode);
        string[] lines = result.Error.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("error: Unrecognized command or argument '--no-such-flag'.", lines);
        Assert.Equal("Run 'sharplm tokenizer train --help' for usage.", lines[^1]);
    }
}
