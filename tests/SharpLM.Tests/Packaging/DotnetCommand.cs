using System.Diagnostics;

namespace SharpLM.Tests.Packaging;

/// <summary>What a child process printed and how it ended.</summary>
public sealed record ProcessResult(int ExitCode, string Output)
{
    /// <summary>Fails with the command line and everything it printed, which is what a CI log needs.</summary>
    public ProcessResult AssertSuccess(string commandLine)
    {
        Assert.True(ExitCode == 0, $"`{commandLine}` exited with {ExitCode}:\n{Output}");
        return this;
    }
}

/// <summary>
/// Runs the dotnet CLI or a program as a user would in a shell. The test host inherits MSBuild's variables
/// from `dotnet test` (MSBuildSDKsPath, MSBUILD_EXE_PATH, ...), which would make a nested build use the outer
/// one's settings, so the child gets the environment without them.
/// </summary>
public static class DotnetCommand
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    /// <summary>The dotnet that runs this test run (dotnet test sets DOTNET_HOST_PATH), else the one on PATH.</summary>
    public static string Executable { get; } = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    public static ProcessResult Dotnet(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        Run(Executable, workingDirectory, environment, arguments);

    public static ProcessResult Run(string fileName, string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = new System.Text.StringBuilder();
        DataReceivedEventHandler append = (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.AppendLine(e.Data);
                }
            }
        };
        process.OutputDataReceived += append;
        process.ErrorDataReceived += append;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return new ProcessResult(-1, $"timed out after {Timeout.TotalMinutes} min\n{output}");
        }
        process.WaitForExit();
        lock (output)
        {
            return new ProcessResult(process.ExitCode, output.ToString());
        }
    }
}
