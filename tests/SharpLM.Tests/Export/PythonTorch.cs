using System.Diagnostics;
using System.Text.Json.Nodes;

namespace SharpLM.Tests.Export;

/// <summary>
/// Debian's PyTorch (python3-torch 1.13, run as /usr/bin/python3; `.ci/run` installs it) running the project's plain
/// CS336 forward, Export/cs336_forward.py.
/// </summary>
public static class PythonTorch
{
    const string Python = "/usr/bin/python3";

    static readonly Lazy<bool> LazyAvailable = new(() =>
    {
        if (!File.Exists(Python))
        {
            return false;
        }
        using var process = Process.Start(new ProcessStartInfo(Python, ["-c", "import torch"]) { RedirectStandardError = true })!;
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0;
    });

    public static bool Available => LazyAvailable.Value;

    /// <summary>Runs cs336_forward.py on <paramref name="request"/> (see the script for the modes).</summary>
    public static JsonNode Run(JsonObject request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return PeerScript.Run(Python, "Export/cs336_forward.py", request);
    }
}

/// <summary>A theory that needs PyTorch (CI installs it); skipped with the reason elsewhere.</summary>
public sealed class PyTorchTheoryAttribute : TheoryAttribute
{
    public PyTorchTheoryAttribute()
    {
        if (!PythonTorch.Available)
        {
            Skip = "needs /usr/bin/python3 with torch (apt-get install python3-torch; bash .ci/run installs it)";
        }
    }
}
