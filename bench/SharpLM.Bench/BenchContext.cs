using System.Runtime.InteropServices;

namespace SharpLM.Bench;

/// <summary>What a suite needs: where the shared data is and where to print.</summary>
public sealed class BenchContext(string dataDirectory, TextWriter output)
{
    public string DataDirectory { get; } = dataDirectory;

    public TextWriter Output { get; } = output;

    public string DataPath(params string[] parts) => Path.Combine([DataDirectory, .. parts]);

    /// <summary>../shared/data from the current directory or any directory above the benchmark's binaries.</summary>
    public static string FindSharedData()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                string candidate = Path.Combine(directory.FullName, "..", "shared", "data");
                if (Directory.Exists(candidate))
                {
                    return Path.GetFullPath(candidate);
                }
            }
        }
        throw new DirectoryNotFoundException("../shared/data not found; pass --data DIR");
    }

    public void PrintMachine()
    {
        string cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?"
            : "?";
        // Other processes on a shared machine slow every row; the load average says how much to trust a run.
        string load = File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3]) : "?";
        Output.WriteLine($"machine: {cpu}, {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, " +
            $"{RuntimeInformation.FrameworkDescription}, {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC; " +
            $"load average at start: {load}");
        Output.WriteLine();
    }
}
