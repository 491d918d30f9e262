using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using SharpLM.IO;

namespace SharpLM.Tokenization;

/// <summary>
/// A byte-level BPE tokenizer (handout §2.6): special tokens are cut out first (atomic, leftmost, longest
/// first), the rest is split into GPT-2 pre-tokens, and each pre-token's UTF-8 bytes are merged in the order the
/// merges were learned. Encoding caches pre-token → ids per thread, so running text costs a pre-tokenizer
/// step and a dictionary lookup per pre-token. Thread-safe.
/// </summary>
public sealed class Tokenizer
{
    /// <summary>Pre-tokens longer than this are rare enough not to be worth caching.</summary>
    const int MaxCachedLength = 64;

    /// <summary>The cache starts over when it holds this many pre-tokens, which bounds its memory.</summary>
    const int MaxCacheEntries = 1 << 18;

    /// <summary>Far above any real vocabulary (GPT-4's has 100k tokens).</summary>
    const int MaxId = 1 << 24;

    readonly byte[]?[] _bytesOfId;
    readonly int[] _idOfByte = new int[256];
    readonly MergeTable _mergeTable;
    readonly SpecialTokenMatcher _specialMatcher;
    readonly Dictionary<string, int> _idOfSpecial = new(StringComparer.Ordinal);
    readonly ThreadLocal<PieceCache> _cache = new(() => new PieceCache());
    readonly Lazy<string> _hash;

    /// <summary>
    /// Builds a tokenizer from a vocabulary (id → bytes, normally including all 256 single bytes), merges in order of
    /// creation and special tokens; a special token not in the vocabulary gets the next free id.
    /// </summary>
    public Tokenizer(IReadOnlyDictionary<int, byte[]> vocabulary, IReadOnlyList<BpeMerge> merges, IEnumerable<string>? specialTokens = null)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(merges);
        var idOfBytes = new Dictionary<byte[], int>(ByteStringComparer.Instance);
        int maxId = -1;
        foreach (var (id, bytes) in vocabulary)
        {
            // Ids index an array; a corrupt file with a huge id must not allocate gigabytes.
            if (id is < 0 or >= MaxId)
            {
                throw new ArgumentException($"token id {id} is outside [0, {MaxId})", nameof(vocabulary));
            }
            if (bytes is null || bytes.Length == 0)
            {
                throw new ArgumentException($"token {id} has no bytes", nameof(vocabulary));
            }
            if (!idOfBytes.TryAdd(bytes, id))
            {
                throw new ArgumentException($"tokens {idOfBytes[bytes]} and {id} have the same bytes \"{ByteToUnicode.Encode(bytes)}\"", nameof(vocabulary));
            }
            maxId = Math.Max(maxId, id);
        }

        List<string> specials = [.. (specialTokens ?? []).Distinct(StringComparer.Ordinal)];
        int nextId = maxId + 1;
        foreach (string special in specials)
        {
            ArgumentException.ThrowIfNullOrEmpty(special, nameof(specialTokens));
            byte[] bytes = Encoding.UTF8.GetBytes(special);
            if (!idOfBytes.TryGetValue(bytes, out int id))
            {
                id = nextId++;
                idOfBytes.Add(bytes, id);
            }
            _idOfSpecial.Add(special, id);
        }
        SpecialTokens = specials;

        _bytesOfId = new byte[]?[nextId];
        foreach (var (bytes, id) in idOfBytes)
        {
            _bytesOfId[id] = bytes;
        }
        Vocabulary = idOfBytes.OrderBy(entry => entry.Value).ToDictionary(entry => entry.Value, entry => entry.Key);
        // A vocabulary may lack bytes (the handout's example does); encoding text that needs one then throws.
        for (int b = 0; b < 256; b++)
        {
            _idOfByte[b] = idOfBytes.TryGetValue([(byte)b], out int id) ? id : -1;
        }

        var ranked = new List<(int, int, int)>(merges.Count);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (left is null || right is null)
            {
                throw new ArgumentException($"merge {rank} has a missing side", nameof(merges));
            }
            ranked.Add((IdOf(left, rank), IdOf(right, rank), IdOf([.. left, .. right], rank)));
        }
        _mergeTable = new MergeTable(ranked);
        Merges = [.. merges];
        _specialMatcher = new SpecialTokenMatcher(specials);
        _hash = new Lazy<string>(ComputeHash);

        int IdOf(byte[] bytes, int rank) => idOfBytes.TryGetValue(bytes, out int id)
            ? id
            : throw new ArgumentException($"merge {rank} ({merges[rank]}) refers to a token that is not in the vocabulary", nameof(merges));
    }

    /// <summary>Reads GPT-2 vocab.json and merges.txt; bad files throw <see cref="InvalidDataException"/>.</summary>
    public static Tokenizer FromFiles(string vocabularyPath, string mergesPath, IEnumerable<string>? specialTokens = null)
    {
        var vocabulary = Gpt2TokenizerFormat.ReadVocabulary(vocabularyPath);
        var merges = Gpt2TokenizerFormat.ReadMerges(mergesPath, vocabulary);
        try
        {
            return new Tokenizer(vocabulary, merges, specialTokens);
        }
        catch (ArgumentException exception) when (exception.ParamName is "vocabulary" or "merges")
        {
            throw new InvalidDataException($"{vocabularyPath}: {exception.Message}", exception);
        }
    }

    /// <summary>Loads a directory written by <see cref="Save"/> (special_tokens.json is optional).</summary>
    public static Tokenizer Load(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"tokenizer directory not found: {directory}");
        }
        return FromFiles(
            Path.Combine(directory, Gpt2TokenizerFormat.VocabularyFileName),
            Path.Combine(directory, Gpt2TokenizerFormat.MergesFileName),
            Gpt2TokenizerFormat.ReadSpecialTokens(Path.Combine(directory, Gpt2TokenizerFormat.SpecialTokensFileName)));
    }

    /// <summary>Writes vocab.json, merges.txt and special_tokens.json into <paramref name="directory"/>, each atomically.</summary>
    public void Save(string directory)
    {
        var (vocabulary, merges, specials) = SerializedFiles();
        AtomicFile.Write(Path.Combine(directory, Gpt2TokenizerFormat.VocabularyFileName), stream => stream.Write(vocabulary));
        AtomicFile.Write(Path.Combine(directory, Gpt2TokenizerFormat.MergesFileName), stream => stream.Write(merges));
        AtomicFile.Write(Path.Combine(directory, Gpt2TokenizerFormat.SpecialTokensFileName), stream => stream.Write(specials));
    }

    /// <summary>Ids run from 0 to VocabularySize - 1 (a loaded vocabulary may leave gaps).</summary>
    public int VocabularySize => _bytesOfId.Length;

    public IReadOnlyList<string> SpecialTokens { get; }

    public IReadOnlyList<BpeMerge> Merges { get; }

    /// <summary>Id → bytes of every token, special tokens included.</summary>
    public IReadOnlyDictionary<int, byte[]> Vocabulary { get; }

    /// <summary>
    /// Lower-case hex SHA-256 of the files <see cref="Save"/> writes, concatenated in the order vocab.json,
    /// merges.txt, special_tokens.json (so <c>cat</c> of the three piped to <c>sha256sum</c> gives the same);
    /// token files record it so that ids are never read with another tokenizer.
    /// </summary>
    public string Hash => _hash.Value;

    public ReadOnlySpan<byte> TokenBytes(int id) => BytesOf(id);

    internal MergeTable MergeTable => _mergeTable;

    internal int IdOfByte(byte value) => _idOfByte[value];

    /// <summary>The id of a special token, or null when <paramref name="token"/> is not one.</summary>
    public int? SpecialTokenId(string token) => _idOfSpecial.TryGetValue(token, out int id) ? id : null;

    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 16);
        Encode(text, ids);
        return [.. ids];
    }

    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="ids"/>.</summary>
    public void Encode(ReadOnlySpan<char> text, List<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        PieceCache cache = _cache.Value!;
        while (!text.IsEmpty)
        {
            if (!_specialMatcher.TryFind(text, out int index, out string special))
            {
                EncodeOrdinary(text, ids, cache);
                return;
            }
            EncodeOrdinary(text[..index], ids, cache);
            ids.Add(_idOfSpecial[special]);
            text = text[(index + special.Length)..];
        }
    }

    /// <summary>
    /// Encodes a text stream lazily in constant memory: the reader is consumed in chunks cut where the result
    /// cannot change, so the ids equal those of <see cref="Encode(string)"/> on the whole text.
    /// </summary>
    public IEnumerable<int> EncodeStream(TextReader reader)
    {
        foreach (int[] batch in EncodeBatches(reader))
        {
            foreach (int id in batch)
            {
                yield return id;
            }
        }
    }

    /// <summary>Like <see cref="EncodeStream"/>, one array of ids per chunk of about <paramref name="chunkLength"/> characters.</summary>
    public IEnumerable<int[]> EncodeBatches(TextReader reader, int chunkLength = 1 << 16)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var chunker = new TextChunker(reader, _specialMatcher, chunkLength);
        var ids = new List<int>();
        while (chunker.TryRead(out ReadOnlyMemory<char> chunk))
        {
            ids.Clear();
            Encode(chunk.Span, ids);
            yield return [.. ids];
        }
    }

    /// <summary>The text of <paramref name="ids"/>; byte sequences that are not UTF-8 become U+FFFD.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids is int[] array)
        {
            return Decode(array.AsSpan());
        }
        var bytes = new ArrayBufferWriter<byte>();
        foreach (int id in ids)
        {
            bytes.Write(BytesOf(id));
        }
        return Encoding.UTF8.GetString(bytes.WrittenSpan);
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new ArrayBufferWriter<byte>(ids.Length * 4 + 16);
        foreach (int id in ids)
        {
            bytes.Write(BytesOf(id));
        }
        return Encoding.UTF8.GetString(bytes.WrittenSpan);
    }

    byte[] BytesOf(int id) =>
        (uint)id < (uint)_bytesOfId.Length && _bytesOfId[id] is { } bytes
            ? bytes
            : throw new ArgumentOutOfRangeException(nameof(id), id, $"token id {id} is not in the vocabulary (size {_bytesOfId.Length})");

    void EncodeOrdinary(ReadOnlySpan<char> text, List<int> ids, PieceCache cache)
    {
        while (!text.IsEmpty)
        {
            int length = Gpt2PreTokenizer.MatchLength(text);
            ReadOnlySpan<char> piece = text[..length];
            if (cache.Lookup.TryGetValue(piece, out int[]? cached))
            {
                ids.AddRange(cached.AsSpan());
            }
            else
            {
                int[] pieceIds = EncodePiece(piece);
                if (length <= MaxCachedLength)
                {
                    if (cache.Entries.Count >= MaxCacheEntries)
                    {
                        cache.Entries.Clear();
                    }
                    cache.Entries.Add(piece.ToString(), pieceIds);
                }
                ids.AddRange(pieceIds.AsSpan());
            }
            text = text[length..];
        }
    }

    int[] EncodePiece(ReadOnlySpan<char> piece)
    {
        int maxBytes = Encoding.UTF8.GetMaxByteCount(piece.Length);
        byte[]? rented = null;
        Span<byte> utf8 = maxBytes <= 512 ? stackalloc byte[maxBytes] : (rented = ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            if (Utf8.FromUtf16(piece, utf8, out _, out int byteCount, replaceInvalidSequences: false) != OperationStatus.Done)
            {
                throw new ArgumentException("the text contains an unpaired surrogate, which has no UTF-8 encoding", "text");
            }
            int[] symbols = new int[byteCount];
            for (int i = 0; i < byteCount; i++)
            {
                symbols[i] = _idOfByte[utf8[i]];
                if (symbols[i] < 0)
                {
                    throw new ArgumentException($"the vocabulary has no token for byte 0x{utf8[i]:X2} of \"{piece}\"", "text");
                }
            }
            int count = _mergeTable.Apply(symbols);
            return count == symbols.Length ? symbols : symbols[..count];
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    (byte[] Vocabulary, byte[] Merges, byte[] SpecialTokens) SerializedFiles() => (
        Gpt2TokenizerFormat.WriteVocabulary(Vocabulary),
        Gpt2TokenizerFormat.WriteMerges(Merges),
        Gpt2TokenizerFormat.WriteSpecialTokens(SpecialTokens));

    string ComputeHash()
    {
        var (vocabulary, merges, specials) = SerializedFiles();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(vocabulary);
        hash.AppendData(merges);
        hash.AppendData(specials);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>One thread's pre-token → ids cache; looked up by span so that hits allocate nothing.</summary>
    sealed class PieceCache
    {
        public PieceCache() => Lookup = Entries.GetAlternateLookup<ReadOnlySpan<char>>();

        public Dictionary<string, int[]> Entries { get; } = [];

        public Dictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> Lookup { get; }
    }
}
