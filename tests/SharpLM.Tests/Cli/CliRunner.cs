using SharpLM.Cli;

namespace SharpLM.Tests.Cli;

/// <summary>Runs the sharplm command in-process and captures what it prints.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static Result Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exitCode = CliApp.Run(args, output, error);
        return new Result(exitCode, output.ToString(), error.ToString());
    }
}
