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
    public string TokenizerDirectory => System.IO.Path.Combine(Path, "tokenizer");
    public string DataDirectory => System.IO.Path.Combine(Path, "data");
    public string LossByStepPlotPath => System.IO.Path.Combine(Path, "loss-by-step.png");
    public string LossByTimePlotPath => System.IO.Path.Combine(Path, "loss-by-time.png");

    /// <summary>Creates the directory and checks that it can be written, before any work is spent.</summary>
    public void EnsureWritable()
    {
        try
        {
            Directory.CreateDirectory(CheckpointDirectory);
            // Every rank of a job probes at once, so each with a name of its own; not an AtomicFile temporary, which
            // rank 0 would remove as stale while another rank's probe is in flight.
            string probe = System.IO.Path.Combine(Path, $".write-test-{Guid.NewGuid():N}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception exception) when (exception is UnauthorizedAccessException or IOException)
        {
            throw new IOException($"cannot write the run directory {Path}: {exception.Message}", exception);
        }
    }

    /// <summary>Deletes the temporaries of interrupted writes in the run and its checkpoints; returns their paths.</summary>
    public IReadOnlyList<string> RemoveStaleTemporaries()
    {
        var stale = IO.AtomicFile.Temporaries(Path).Concat(IO.AtomicFile.Temporaries(CheckpointDirectory)).ToList();
        stale.ForEach(File.Delete);
        return stale;
    }

    /// <summary>The entries at the top of the directory now, or null when it does not exist: see <see cref="RemoveCreatedSince"/>.</summary>
    public IReadOnlySet<string>? Contents() =>
        Directory.Exists(Path) ? Directory.EnumerateFileSystemEntries(Path).ToHashSet(StringComparer.Ordinal) : null;

    /// <summary>
    /// Undoes a start that failed: deletes the whole directory when it did not exist (<paramref name="before"/> is
    /// null), else the entries that <see cref="Contents"/> did not list. Best effort: what cannot be deleted stays.
    /// </summary>
    public void RemoveCreatedSince(IReadOnlySet<string>? before)
    {
        try
        {
            if (before is null)
            {
                if (Directory.Exists(Path))
                {
                    Directory.Delete(Path, recursive: true);
                }
                return;
            }
            foreach (string entry in Directory.EnumerateFileSystemEntries(Path).Where(entry => !before.Contains(entry)).ToList())
            {
                if (Directory.Exists(entry))
                {
                    Directory.Delete(entry, recursive: true);
                }
                else
                {
                    File.Delete(entry);
                }
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // The error that made the start fail is the one to report.
        }
    }

    public string CheckpointPath(long step) =>
        System.IO.Path.Combine(CheckpointDirectory, $"{CheckpointPrefix}{step.ToString("D8", CultureInfo.InvariantCulture)}{CheckpointExtension}");

    /// <summary>The checkpoint with the highest step, or null.</summary>
    public string? LatestCheckpoint() => CheckpointsNewestFirst().FirstOrDefault();

    /// <summary>The checkpoints by decreasing step.</summary>
    public IReadOnlyList<string> CheckpointsNewestFirst()
    {
        if (!Directory.Exists(CheckpointDirectory))
        {
            return [];
        }
        return [.. Directory.EnumerateFiles(CheckpointDirectory, CheckpointPrefix + "*" + CheckpointExtension)
            .Select(path => (path, step: long.TryParse(System.IO.Path.GetFileNameWithoutExtension(path)[CheckpointPrefix.Length..], out long s) ? s : -1))
            .Where(entry => entry.step >= 0)
            .OrderByDescending(entry => entry.step)
            .Select(entry => entry.path)];
    }

    /// <summary>Default location: runs/yyyyMMdd-HHmmss under the current directory.</summary>
    public static string DefaultPath() =>
        System.IO.Path.Combine("runs", DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
}
