using System.Text.Json;

namespace SharpLM.Training;

/// <summary>
/// The newest checkpoint of a run that reads back whole (magic, length and SHA-256 check out), and the newer ones
/// that did not, each named with the reason: a truncated copy or bit rot in the latest checkpoint costs the steps
/// since the one before it, not the run.
/// </summary>
public sealed record ReadableCheckpoint(string Path, CheckpointMetadata Metadata, IReadOnlyList<string> Skipped)
{
    /// <summary>Null when the run has no checkpoint at all.</summary>
    /// <exception cref="InvalidDataException">No checkpoint is readable; the message names each with its reason.</exception>
    public static ReadableCheckpoint? Find(RunDirectory run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var checkpoints = run.CheckpointsNewestFirst();
        var skipped = new List<string>();
        foreach (string path in checkpoints)
        {
            try
            {
                var metadata = Checkpoint.ReadMetadata(path);
                return new ReadableCheckpoint(path, metadata, [.. skipped.Select(reason => $"{reason}; using {path} instead")]);
            }
            catch (Exception exception) when (exception is InvalidDataException or EndOfStreamException or JsonException or IOException or UnauthorizedAccessException)
            {
                skipped.Add($"{path} is unreadable ({exception.Message.TrimEnd('.')})");
            }
        }
        return checkpoints.Count == 0 ? null : throw new InvalidDataException($"no readable checkpoint in {run.CheckpointDirectory}: {string.Join("; ", skipped)}.");
    }
}
