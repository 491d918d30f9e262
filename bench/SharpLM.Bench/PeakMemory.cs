namespace SharpLM.Bench;

/// <summary>
/// How far the process's resident memory rises while an action runs (Linux: VmHWM after resetting it, minus
/// VmRSS before). libtorch's CPU allocator returns large blocks to the system as soon as they are freed, so
/// this is the peak of what the action holds at once.
/// </summary>
public static class PeakMemory
{
    public static bool IsSupported => OperatingSystem.IsLinux() && File.Exists("/proc/self/clear_refs");

    /// <returns>Bytes above the resident size before the action, or null where the OS does not tell.</returns>
    public static long? BytesAbove(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (!IsSupported)
        {
            action();
            return null;
        }
        long baseline = Status("VmRSS");
        File.WriteAllText("/proc/self/clear_refs", "5"); // "5" resets the high-water mark to the current size
        action();
        return Status("VmHWM") - baseline;
    }

    /// <summary>A size field of /proc/self/status (VmRSS, VmHWM, …) in bytes.</summary>
    public static long Status(string field)
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024; // kB
    }
}
