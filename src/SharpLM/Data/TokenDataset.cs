using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace SharpLM.Data;

/// <summary>
/// A token file mapped into memory: ids are read straight from the page cache where they are needed, so a
/// file larger than RAM costs only the pages a batch touches.
/// </summary>
public sealed unsafe class TokenDataset : IDisposable
{
    readonly MemoryMappedFile file;
    readonly MemoryMappedViewAccessor view;
    readonly byte* pointer;

    TokenDataset(string path, TokenDType dtype, long tokenCount, int vocabularySize)
    {
        Path = path;
        DType = dtype;
        Count = tokenCount;
        VocabularySize = vocabularySize;
        long expectedBytes = tokenCount * ElementSize(dtype);
        long actualBytes = new FileInfo(path).Length;
        if (actualBytes != expectedBytes)
        {
            throw new InvalidDataException(
                $"{path}: expected {expectedBytes} bytes ({tokenCount} {dtype} tokens), found {actualBytes}.");
        }
        if (tokenCount == 0)
        {
            throw new InvalidDataException($"{path}: the token file is empty.");
        }
        file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        view = file.CreateViewAccessor(0, actualBytes, MemoryMappedFileAccess.Read);
        byte* start = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
        pointer = start + view.PointerOffset;
    }

    public string Path { get; }
    public TokenDType DType { get; }

    /// <summary>Number of tokens n.</summary>
    public long Count { get; }

    public int VocabularySize { get; }

    /// <summary>Maps a raw token file of known layout and checks every id against the vocabulary.</summary>
    public static TokenDataset OpenRaw(string path, TokenDType dtype, long tokenCount, int vocabularySize)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"token file not found: {path}", path);
        }
        var dataset = new TokenDataset(path, dtype, tokenCount, vocabularySize);
        try
        {
            dataset.ValidateIds();
            return dataset;
        }
        catch
        {
            dataset.Dispose();
            throw;
        }
    }

    /// <summary>Copies tokens [start, start + destination.Length) as int64.</summary>
    public void Read(long start, Span<long> destination)
    {
        if (start < 0 || start + destination.Length > Count)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"tokens [{start}, {start + destination.Length}) are outside [0, {Count}).");
        }
        switch (DType)
        {
            case TokenDType.UInt16:
                var shorts = new ReadOnlySpan<ushort>(pointer + start * 2, destination.Length);
                for (int i = 0; i < shorts.Length; i++)
                {
                    destination[i] = shorts[i];
                }
                break;
            default:
                var ints = new ReadOnlySpan<int>(pointer + start * 4, destination.Length);
                for (int i = 0; i < ints.Length; i++)
                {
                    destination[i] = ints[i];
                }
                break;
        }
    }

    /// <summary>Scans the file once, chunk by chunk, for ids outside [0, vocabulary).</summary>
    void ValidateIds()
    {
        const int chunk = 1 << 20;
        var buffer = new long[chunk];
        for (long start = 0; start < Count; start += chunk)
        {
            var span = buffer.AsSpan(0, (int)Math.Min(chunk, Count - start));
            Read(start, span);
            for (int i = 0; i < span.Length; i++)
            {
                if ((ulong)span[i] >= (ulong)VocabularySize)
                {
                    throw new InvalidDataException(
                        $"{Path}: token id {span[i]} at position {start + i} is outside the vocabulary [0, {VocabularySize}).");
                }
            }
        }
    }

    static int ElementSize(TokenDType dtype) => dtype == TokenDType.UInt16 ? sizeof(ushort) : sizeof(int);

    public void Dispose()
    {
        view.SafeMemoryMappedViewHandle.ReleasePointer();
        view.Dispose();
        file.Dispose();
    }
}
