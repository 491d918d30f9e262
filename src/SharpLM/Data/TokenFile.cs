using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization;
using SharpLM.IO;

namespace SharpLM.Data;

/// <summary>
/// The one definition of SharpLM's token files. <c>&lt;path&gt;</c> holds the token ids as a flat little-endian
/// array, uint16 when the vocabulary has at most 65536 ids, else int32, with no header so that it can be
/// memory-mapped as is; <c>&lt;path&gt;.json</c> says how to read it:
/// <code>{"format":"sharplm-tokens","version":1,"dtype":"uint16","vocabSize":10000,"tokenCount":123,"tokenizerHash":"…"}</code>
/// The hash is <see cref="Tokenization.Tokenizer.Hash"/>, so ids are never read with another tokenizer.
/// </summary>
public static class TokenFile
{
    public const string Format = "sharplm-tokens";
    public const int Version = 1;
    public const string DTypeUInt16 = "uint16";
    public const string DTypeInt32 = "int32";

    static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = true };

    public static string SidecarPath(string path) => path + ".json";

    /// <summary>The element type for a vocabulary of <paramref name="vocabSize"/> ids.</summary>
    public static string DTypeFor(int vocabSize) => vocabSize <= 1 << 16 ? DTypeUInt16 : DTypeInt32;

    public static int BytesPerToken(string dtype) => dtype switch
    {
        DTypeUInt16 => 2,
        DTypeInt32 => 4,
        _ => throw new InvalidDataException($"unknown token dtype: expected \"{DTypeUInt16}\" or \"{DTypeInt32}\", found \"{dtype}\""),
    };

    /// <summary>
    /// Streams <paramref name="batches"/> of ids into <paramref name="path"/> and then writes the sidecar, both
    /// atomically; the old sidecar is removed first, so a crash never pairs new ids with an old description.
    /// An id outside [0, vocabSize) throws and leaves no file behind.
    /// </summary>
    public static TokenFileInfo Write(string path, IEnumerable<int[]> batches, int vocabSize, string tokenizerHash)
    {
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        ArgumentException.ThrowIfNullOrEmpty(tokenizerHash);
        string dtype = DTypeFor(vocabSize);
        int width = BytesPerToken(dtype);
        long tokenCount = 0;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.Delete(SidecarPath(path));
        AtomicFile.Write(path, stream =>
        {
            byte[] buffer = new byte[1 << 16];
            int used = 0;
            foreach (int[] batch in batches)
            {
                foreach (int id in batch)
                {
                    if ((uint)id >= (uint)vocabSize)
                    {
                        throw new ArgumentOutOfRangeException(nameof(batches), id, $"token id {id} is outside the vocabulary [0, {vocabSize})");
                    }
                    if (used + width > buffer.Length)
                    {
                        stream.Write(buffer, 0, used);
                        used = 0;
                    }
                    if (width == 2)
                    {
                        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(used), (ushort)id);
                    }
                    else
                    {
                        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(used), id);
                    }
                    used += width;
                }
                tokenCount += batch.Length;
            }
            stream.Write(buffer, 0, used);
        });
        var info = new TokenFileInfo(Format, Version, dtype, vocabSize, tokenCount, tokenizerHash);
        AtomicFile.Write(SidecarPath(path), stream => JsonSerializer.Serialize(stream, info, JsonOptions));
        return info;
    }

    public static TokenFileInfo Write(string path, IEnumerable<int> ids, int vocabSize, string tokenizerHash) =>
        Write(path, ids.Chunk(1 << 14), vocabSize, tokenizerHash);

    /// <summary>
    /// Encodes the UTF-8 text file <paramref name="textPath"/> with <paramref name="tokenizer"/> into the token file
    /// <paramref name="tokenPath"/>, streaming in constant memory; <paramref name="bytesRead"/> hears how far it got.
    /// Non-UTF-8 input throws <see cref="InvalidDataException"/> with the byte offset, and nothing is written.
    /// </summary>
    public static TokenFileInfo Encode(Tokenization.Tokenizer tokenizer, string textPath, string tokenPath,
        IProgress<long>? bytesRead = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        using var reader = Utf8TextReader.Open(textPath);
        return Write(tokenPath, Batches(), tokenizer.VocabularySize, tokenizer.Hash);

        IEnumerable<int[]> Batches()
        {
            foreach (int[] batch in tokenizer.EncodeBatches(reader))
            {
                cancellationToken.ThrowIfCancellationRequested();
                bytesRead?.Report(reader.BytesRead);
                yield return batch;
            }
        }
    }

    /// <summary>
    /// Reads and checks the sidecar of <paramref name="path"/>: format, version and dtype, and that the id file
    /// has exactly tokenCount ids; with <paramref name="expectedTokenizerHash"/> also the tokenizer. Any mismatch
    /// throws <see cref="InvalidDataException"/> saying what was expected and what was found.
    /// </summary>
    public static TokenFileInfo ReadInfo(string path, string? expectedTokenizerHash = null)
    {
        string sidecar = SidecarPath(path);
        if (!File.Exists(sidecar))
        {
            throw new FileNotFoundException($"token file description not found: {sidecar}", sidecar);
        }
        TokenFileInfo? info;
        try
        {
            info = JsonSerializer.Deserialize<TokenFileInfo>(File.ReadAllBytes(sidecar), JsonOptions);
        }
        catch (JsonException exception)
        {
            throw new InvalidDataException($"{sidecar}: not a token file description ({exception.Message})", exception);
        }
        if (info is null)
        {
            throw new InvalidDataException($"{sidecar}: expected a JSON object, found null");
        }
        Expect(sidecar, "format", Format, info.Format);
        Expect(sidecar, "version", Version.ToString(), info.Version.ToString());
        Expect(sidecar, "dtype for vocabSize " + info.VocabSize, DTypeFor(info.VocabSize), info.DType);
        if (expectedTokenizerHash is not null)
        {
            Expect(sidecar, "tokenizerHash", expectedTokenizerHash, info.TokenizerHash);
        }
        long expectedLength = info.TokenCount * BytesPerToken(info.DType);
        long actualLength = new FileInfo(path).Exists
            ? new FileInfo(path).Length
            : throw new FileNotFoundException($"token file not found: {path}", path);
        if (actualLength != expectedLength)
        {
            throw new InvalidDataException(
                $"{path}: expected {expectedLength} bytes ({info.TokenCount} {info.DType} tokens), found {actualLength}");
        }
        return info;
    }

    /// <summary>Checks the token file (see <see cref="ReadInfo"/>) and then streams its ids in batches.</summary>
    public static IEnumerable<int[]> Read(string path, string? expectedTokenizerHash = null, int batchSize = 1 << 16)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        TokenFileInfo info = ReadInfo(path, expectedTokenizerHash);
        return ReadChecked(path, info, batchSize);
    }

    /// <summary>Every id of a checked token file in memory (tests and small files; training maps the file instead).</summary>
    public static int[] ReadAll(string path, string? expectedTokenizerHash = null) =>
        [.. Read(path, expectedTokenizerHash).SelectMany(batch => batch)];

    static IEnumerable<int[]> ReadChecked(string path, TokenFileInfo info, int batchSize)
    {
        int width = BytesPerToken(info.DType);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        byte[] bytes = new byte[batchSize * width];
        long remaining = info.TokenCount;
        while (remaining > 0)
        {
            int count = (int)Math.Min(batchSize, remaining);
            stream.ReadExactly(bytes, 0, count * width);
            var ids = new int[count];
            for (int i = 0; i < count; i++)
            {
                ids[i] = width == 2
                    ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i * 2))
                    : BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(i * 4));
            }
            remaining -= count;
            yield return ids;
        }
    }

    static void Expect(string sidecar, string what, string expected, string? found)
    {
        if (!string.Equals(expected, found, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{sidecar}: expected {what} \"{expected}\", found \"{found}\"");
        }
    }
}

/// <summary>The sidecar of a token file; see <see cref="TokenFile"/>.</summary>
public sealed record TokenFileInfo(
    string Format,
    int Version,
    [property: JsonPropertyName("dtype")] string DType,
    int VocabSize,
    long TokenCount,
    string TokenizerHash);
