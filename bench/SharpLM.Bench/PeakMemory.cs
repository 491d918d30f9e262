namespace SharpLM.Bench;

/// <summary>
/// The process's peak resident memory (VmHWM) on Linux. <see cref="Reset"/> lowers the mark to the current
/// size (writing 5 to /proc/self/clear_refs), so each benchmark reports its own peak.
/// </summary>
public static class PeakMemory
{
    public static void Reset()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Not Linux or not allowed: the peak is then that of the whole run so far.
        }
    }

    public static long Bytes()
    {
        if (File.Exists("/proc/self/status"))
        {
            string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            if (line is not null)
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
            }
        }
        return Environment.WorkingSet;
    }

    public static string Format(long bytes) => $"{bytes / (1024.0 * 1024.0):F0} MiB";
}
