using System.Diagnostics;
using System.Globalization;

namespace SharpLM.Bench;

/// <summary>
/// Runs a suite of this program again in fresh processes, optionally under a launcher such as mpirun: measurements
/// that a long-lived process would distort (a retained, fragmented native heap) or that need several processes.
/// </summary>
public static class ChildProcess
{
    /// <summary>Standard output of <paramref name="suite"/> run with <paramref name="variables"/> set; throws when it fails.</summary>
    /// <param name="launcher">A launcher and its arguments to start this program with (e.g. mpirun -np 2), or empty.</param>
    public static string Run(string suite, IReadOnlyDictionary<string, string> variables, IReadOnlyList<string> launcher)
    {
        ArgumentNullException.ThrowIfNull(variables);
        ArgumentNullException.ThrowIfNull(launcher);
        string process = Environment.ProcessPath!;
        string[] self = Path.GetFileNameWithoutExtension(process) == "dotnet" ? [process, Environment.GetCommandLineArgs()[0]] : [process];
        string[] command = [.. launcher, .. self, suite];
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in variables)
        {
            start.Environment[name] = value;
        }
        using var child = Process.Start(start)!;
        var error = child.StandardError.ReadToEndAsync();
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        if (child.ExitCode != 0)
        {
            throw new InvalidOperationException($"`{string.Join(' ', command)}` failed ({child.ExitCode}): {error.Result.Trim()}");
        }
        return output;
    }

    /// <summary>The numbers of the output lines that start with <paramref name="prefix"/>, e.g. "step-ms 1234.5".</summary>
    public static List<double> Values(string output, string prefix)
    {
        ArgumentNullException.ThrowIfNull(output);
        return [.. output.Split('\n').Where(l => l.StartsWith(prefix, StringComparison.Ordinal))
            .Select(l => double.Parse(l[prefix.Length..], CultureInfo.InvariantCulture))];
    }
}
