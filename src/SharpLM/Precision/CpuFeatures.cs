namespace SharpLM.Precision;

/// <summary>The instruction-set flags the CPU reports, as Linux lists them in /proc/cpuinfo.</summary>
public sealed class CpuFeatures(IReadOnlySet<string> flags)
{
    const string CpuInfoPath = "/proc/cpuinfo";

    public IReadOnlySet<string> Flags { get; } = flags;

    /// <summary>This machine's flags; none where /proc/cpuinfo cannot be read (other systems).</summary>
    public static CpuFeatures Current { get; } = Read();

    /// <summary>The flags of the first "flags" line of a /proc/cpuinfo text.</summary>
    public static CpuFeatures Parse(string cpuInfo)
    {
        ArgumentNullException.ThrowIfNull(cpuInfo);
        string? line = cpuInfo.Split('\n').FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal) && l.Contains(':', StringComparison.Ordinal));
        var flags = line is null
            ? []
            : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new CpuFeatures(flags.ToHashSet(StringComparer.Ordinal));
    }

    public bool Has(string flag) => Flags.Contains(flag);

    static CpuFeatures Read()
    {
        try
        {
            return Parse(File.Exists(CpuInfoPath) ? File.ReadAllText(CpuInfoPath) : "");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return Parse("");
        }
    }
}
