using SharpLM.Cli;

namespace SharpLM.Tests.Cli;

/// <summary>Runs the CLI in-process and captures what it prints.</summary>
public sealed record CliRun(int ExitCode, string Output, string Error)
{
    public static CliRun Of(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = CliApp.Run(args, output, error);
        return new CliRun(exitCode, output.ToString(), error.ToString());
    }

    /// <summary>A user error: exit code 3 and a single "error: ..." line, no stack trace.</summary>
    public void AssertOneLineError(string expectedFragment)
    {
        Assert.Equal(ExitCodes.InputError, ExitCode);
        string[] lines = Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line, found:\n{Error}");
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(expectedFragment, lines[0]);
    }
}
