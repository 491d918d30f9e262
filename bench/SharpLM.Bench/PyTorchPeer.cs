using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace SharpLM.Bench;

/// <summary>
/// The same training step written the usual way in PyTorch (bench/pytorch/train_step.py), run by Debian's
/// /usr/bin/python3 when it imports torch. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed for this command only:
/// this machine sets them for old OpenBLAS builds, and they would slow the current one PyTorch uses.
/// </summary>
public static class PyTorchPeer
{
    const string Python = "/usr/bin/python3";
    static readonly string Script = Path.Combine(AppContext.BaseDirectory, "pytorch", "train_step.py");

    /// <summary>Why the peer cannot run here, or null when it can.</summary>
    public static string? Unavailable()
    {
        if (!File.Exists(Python))
        {
            return $"{Python} is missing";
        }
        var (exitCode, _, error) = Execute(["-c", "import torch"]);
        return exitCode == 0 ? null : $"{Python} cannot import torch ({error.Trim().Split('\n')[^1]}); install python3-torch and libopenblas0-pthread";
    }

    /// <summary>Median milliseconds of a PyTorch training step at batch × 256 tokens.</summary>
    public static double StepMilliseconds(int threads, int batchSize, bool autocastBf16)
    {
        string[] arguments = [Script, "--threads", threads.ToString(CultureInfo.InvariantCulture), "--batch-size", batchSize.ToString(CultureInfo.InvariantCulture),
            .. autocastBf16 ? new[] { "--autocast-bf16" } : []];
        var (exitCode, output, error) = Execute(arguments);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"the PyTorch peer failed ({exitCode}): {error}");
        }
        using var result = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        return result.RootElement.GetProperty("step_ms").GetDouble();
    }

    static (int ExitCode, string Output, string Error) Execute(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment.Remove("OPENBLAS_CORETYPE");
        start.Environment.Remove("OPENBLAS_L2_SIZE");
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, error.Result);
    }
}
