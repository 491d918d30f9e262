using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using SharpLM.IO;

namespace SharpLM.Tokenization;

/// <summary>
/// Counts the pre-tokens of a corpus once, streaming it: one thread decodes UTF-8 and cuts chunks where
/// nothing can span the cut (at special tokens where it can, see <see cref="TextChunker"/>), the other cores
/// split chunks on special tokens, pre-tokenise them and count into their own dictionaries, merged at the end.
/// Special tokens themselves are not counted, so no merge ever crosses or includes one.
/// </summary>
internal static class PreTokenCounter
{
    public static Dictionary<string, long> Count(string inputPath, SpecialTokenMatcher specials, IProgress<BpeTrainingProgress>? progress,
        CancellationToken cancellationToken, int chunkLength = 1 << 18)
    {
        using var reader = Utf8TextReader.Open(inputPath);
        long totalBytes = new FileInfo(inputPath).Length;
        var chunker = new TextChunker(reader, specials, chunkLength);
        var counts = new Dictionary<string, long>();

        // The partitioner calls MoveNext under a lock, so reading stays sequential while workers count.
        IEnumerable<string> Chunks()
        {
            while (chunker.TryRead(out ReadOnlyMemory<char> chunk))
            {
                progress?.Report(new BpeTrainingProgress(BpeTrainingPhase.PreTokenizing, reader.BytesRead, totalBytes));
                yield return chunk.ToString();
            }
        }

        try
        {
            Parallel.ForEach(
                Partitioner.Create(Chunks(), EnumerablePartitionerOptions.NoBuffering),
                new ParallelOptions { CancellationToken = cancellationToken },
                () => new Dictionary<string, long>(),
                (chunk, _, local) =>
                {
                    CountChunk(chunk, specials, local);
                    return local;
                },
                local =>
                {
                    lock (counts)
                    {
                        foreach (var (preToken, count) in local)
                        {
                            CollectionsMarshal.GetValueRefOrAddDefault(counts, preToken, out _) += count;
                        }
                    }
                });
        }
        catch (AggregateException exception) when (exception.InnerExceptions.Count == 1)
        {
            // Bad input (say, invalid UTF-8) should surface as itself, not wrapped.
            ExceptionDispatchInfo.Throw(exception.InnerExceptions[0]);
        }
        progress?.Report(new BpeTrainingProgress(BpeTrainingPhase.PreTokenizing, totalBytes, totalBytes));
        return counts;
    }

    internal static void CountChunk(ReadOnlySpan<char> text, SpecialTokenMatcher specials, Dictionary<string, long> counts)
    {
        var lookup = counts.GetAlternateLookup<ReadOnlySpan<char>>();
        while (!text.IsEmpty)
        {
            ReadOnlySpan<char> segment = text;
            if (specials.TryFind(text, out int index, out string special))
            {
                segment = text[..index];
                text = text[(index + special.Length)..];
            }
            else
            {
                text = default;
            }
            while (!segment.IsEmpty)
            {
                int length = Gpt2PreTokenizer.MatchLength(segment);
                CollectionsMarshal.GetValueRefOrAddDefault(lookup, segment[..length], out _)++;
                segment = segment[length..];
            }
        }
    }
}
