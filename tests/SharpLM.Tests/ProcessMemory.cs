namespace SharpLM.Tests;

/// <summary>Reads the process's memory from /proc (Linux), where managed counters miss native tensors.</summary>
public static class ProcessMemory
{
    /// <summary>Resident anonymous memory (RssAnon): heap and native allocations, not mapped files.</summary>
    public static long AnonymousResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }
        throw new PlatformNotSupportedException("/proc/self/status has no RssAnon line");
    }
}
