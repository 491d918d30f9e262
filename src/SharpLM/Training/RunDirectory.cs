using System.Globalization;

namespace SharpLM.Training;

/// <summary>The files of one training run: its config, metrics, checkpoints and loss curves.</summary>
public sealed class RunDirectory
{
    const string CheckpointPrefix = "step-";
    const string CheckpointExtension = ".ckpt";

    public RunDirectory(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
    }

    public string Path { get; }
    public string ConfigPath => System.IO.Path.Combine(Path, "config.json");
    public string MetricsPath => System.IO.Path.Combine(Path, "metrics.jsonl");
    public string CheckpointDirectory => System.IO.Path.Combine(Path, "checkpoints");
    public string LossByStepPlotPath => System.IO.Path.Combine(Path, "loss-by-step.png");
    public string LossByTimePlotPath => System.IO.Path.Combine(Path, "loss-by-time.png");

    /// <summary>Creates the directory and checks that it can be written, before any work is spent.</summary>
    public void EnsureWritable()
    {
        try
        {
            Directory.CreateDirectory(CheckpointDirectory);
            string probe = System.IO.Path.Combine(Path, $".write-test-{Guid.NewGuid():N}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception exception) when (exception is UnauthorizedAccessException or IOException)
        {
            throw new IOException($"cannot write the run directory {Path}: {exception.Message}", exception);
        }
    }

    public string CheckpointPath(long step) =>
        System.IO.Path.Combine(CheckpointDirectory, $"{CheckpointPrefix}{step.ToString("D8", CultureInfo.InvariantCulture)}{CheckpointExtension}");

    /// <summary>The checkpoint with the highest step, or null.</summary>
    public string? LatestCheckpoint()
    {
        if (!Directory.Exists(CheckpointDirectory))
        {
            return null;
        }
        return Directory.EnumerateFiles(CheckpointDirectory, CheckpointPrefix + "*" + CheckpointExtension)
            .Select(path => (path, step: long.TryParse(System.IO.Path.GetFileNameWithoutExtension(path)[CheckpointPrefix.Length..], out long s) ? s : -1))
            .Where(entry => entry.step >= 0)
            .OrderByDescending(entry => entry.step)
            .Select(entry => entry.path)
            .FirstOrDefault();
    }

    /// <summary>Default location: runs/yyyyMMdd-HHmmss under the current directory.</summary>
    public static string DefaultPath() =>
        System.IO.Path.Combine("runs", DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
}
