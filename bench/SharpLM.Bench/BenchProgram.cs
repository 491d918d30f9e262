using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace SharpLM.Bench;

/// <summary>Runs suites chosen by name and prints the machine they ran on, so committed results say where they come from.</summary>
public static class BenchProgram
{
    const int Success = 0;
    const int UsageError = 2;

    public static int Run(string[] args, IReadOnlyDictionary<string, Action> suites)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(suites);
        string usage = $"usage: SharpLM.Bench <suite>… where suite is all or one of: {string.Join(", ", suites.Keys)}";
        if (args.Length == 0)
        {
            Console.Error.WriteLine(usage);
            return UsageError;
        }
        var unknown = args.Where(a => !a.Equals("all", StringComparison.OrdinalIgnoreCase) && !suites.ContainsKey(a)).ToList();
        if (unknown.Count > 0)
        {
            Console.Error.WriteLine($"unknown suite {string.Join(", ", unknown)}; {usage}");
            return UsageError;
        }
        var chosen = args.Any(a => a.Equals("all", StringComparison.OrdinalIgnoreCase))
            ? suites.ToList()
            : args.Distinct(StringComparer.OrdinalIgnoreCase).Select(a => suites.First(s => s.Key.Equals(a, StringComparison.OrdinalIgnoreCase))).ToList();

        Console.WriteLine($"Machine: {CpuModel()}, {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, " +
            $".NET {Environment.Version}, libtorch threads {get_num_threads()}, SIMD width {System.Numerics.Vector<float>.Count} floats");
        foreach (var (name, run) in chosen)
        {
            Console.WriteLine();
            Console.WriteLine($"## {name}");
            Console.WriteLine();
            run();
        }
        return Success;
    }

    static string CpuModel()
    {
        const string cpuInfo = "/proc/cpuinfo";
        if (!File.Exists(cpuInfo))
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
        string? line = File.ReadLines(cpuInfo).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line is null ? RuntimeInformation.ProcessArchitecture.ToString() : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
    }
}
