using System.Diagnostics;
using System.Text.Json;
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
        var start = new ProcessStartInfo(Python, [Path.Combine(AppContext.BaseDirectory, "Export", "cs336_forward.py")])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(request.ToJsonString());
        process.StandardInput.Close();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"python exited with {process.ExitCode}: {error.Result}");
        return JsonNode.Parse(output) ?? throw new JsonException("python printed nothing");
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
