namespace SharpLM.IO;

/// <summary>
/// Writes a file so that readers only ever see the old complete file or the new complete file: the content
/// goes to a temporary file in the same directory, is flushed to disk, then renamed over the final name.
/// A crash or an exception mid-write leaves the previous file untouched and no partial file behind.
/// </summary>
public static class AtomicFile
{
    /// <summary>Temporaries are hidden files ".name.guid.tmp" beside their target.</summary>
    const string TemporaryExtension = ".tmp";

    /// <summary>
    /// The temporaries in <paramref name="directory"/>: a process killed mid-write (kill -9, power loss) leaves its
    /// temporary behind, as the catch below cannot run.
    /// </summary>
    public static IEnumerable<string> Temporaries(string directory) =>
        Directory.Exists(directory) ? Directory.EnumerateFiles(directory, "." + "*" + TemporaryExtension) : [];

    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        string temporary = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}{TemporaryExtension}");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, fullPath, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    public static void WriteAllText(string path, string contents) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            writer.Write(contents);
        });
}
