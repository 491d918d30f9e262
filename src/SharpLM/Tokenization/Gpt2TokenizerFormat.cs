using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace SharpLM.Tokenization;

/// <summary>
/// GPT-2's tokenizer files, which Hugging Face, tiktoken converters and Microsoft.ML.Tokenizers read:
/// vocab.json maps each token, written through <see cref="ByteToUnicode"/>, to its id; merges.txt lists one
/// merge per line in order of creation ("Ġ t"), optionally after a "#version" line. SharpLM adds
/// special_tokens.json, a JSON array of the special tokens, so a saved directory is complete.
/// </summary>
internal static class Gpt2TokenizerFormat
{
    public const string VocabularyFileName = "vocab.json";
    public const string MergesFileName = "merges.txt";
    public const string SpecialTokensFileName = "special_tokens.json";

    // Relaxed escaping keeps tokens readable ("Ġthe", not "\u0120the"); the files are never embedded in HTML.
    static readonly JsonWriterOptions WriterOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static byte[] WriteVocabulary(IReadOnlyDictionary<int, byte[]> vocabulary)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            foreach (var (id, bytes) in vocabulary.OrderBy(entry => entry.Key))
            {
                writer.WriteNumber(ByteToUnicode.Encode(bytes), id);
            }
            writer.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    public static byte[] WriteMerges(IReadOnlyList<BpeMerge> merges)
    {
        var text = new StringBuilder();
        foreach (BpeMerge merge in merges)
        {
            text.Append(merge.ToString()).Append('\n');
        }
        return StrictUtf8.GetBytes(text.ToString());
    }

    public static byte[] WriteSpecialTokens(IReadOnlyList<string> specialTokens)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartArray();
            foreach (string token in specialTokens)
            {
                writer.WriteStringValue(token);
            }
            writer.WriteEndArray();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>Reads vocab.json into id → bytes; a bad file throws <see cref="InvalidDataException"/> naming it.</summary>
    public static Dictionary<int, byte[]> ReadVocabulary(string path)
    {
        byte[] json = File.ReadAllBytes(path);
        var vocabulary = new Dictionary<int, byte[]>();
        var idOfBytes = new Dictionary<byte[], int>(ByteStringComparer.Instance);
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{path}: expected a JSON object of token → id, found {document.RootElement.ValueKind}");
            }
            foreach (JsonProperty entry in document.RootElement.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
                {
                    throw new InvalidDataException($"{path}: token \"{entry.Name}\" has id {entry.Value}, expected a non-negative integer");
                }
                if (!ByteToUnicode.TryDecode(entry.Name, out byte[] bytes))
                {
                    throw new InvalidDataException($"{path}: token \"{entry.Name}\" has a character outside GPT-2's byte-to-unicode alphabet");
                }
                if (!vocabulary.TryAdd(id, bytes))
                {
                    throw new InvalidDataException($"{path}: id {id} is given to both \"{ByteToUnicode.Encode(vocabulary[id])}\" and \"{entry.Name}\"");
                }
                if (!idOfBytes.TryAdd(bytes, id))
                {
                    throw new InvalidDataException($"{path}: token \"{entry.Name}\" appears twice (ids {idOfBytes[bytes]} and {id})");
                }
            }
        }
        catch (JsonException exception)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({exception.Message})", exception);
        }
        return vocabulary;
    }

    /// <summary>
    /// Reads merges.txt; every merge must name two tokens of <paramref name="vocabulary"/> whose concatenation is
    /// one too, else <see cref="InvalidDataException"/> names the line.
    /// </summary>
    public static List<BpeMerge> ReadMerges(string path, IReadOnlyDictionary<int, byte[]> vocabulary)
    {
        var known = new HashSet<byte[]>(vocabulary.Values, ByteStringComparer.Instance);
        var merges = new List<BpeMerge>();
        int lineNumber = 0;
        using var reader = new StreamReader(path, StrictUtf8);
        try
        {
            for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
            {
                lineNumber++;
                if ((lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal)) || line.Length == 0)
                {
                    continue;
                }
                string[] parts = line.Split(' ');
                if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                {
                    throw new InvalidDataException($"{path}:{lineNumber}: expected two tokens separated by one space, found \"{line}\"");
                }
                byte[] left = DecodeToken(parts[0], path, lineNumber);
                byte[] right = DecodeToken(parts[1], path, lineNumber);
                foreach ((byte[] token, string name) in new[] { (left, parts[0]), (right, parts[1]), ([.. left, .. right], parts[0] + parts[1]) })
                {
                    if (!known.Contains(token))
                    {
                        throw new InvalidDataException($"{path}:{lineNumber}: token \"{name}\" is not in the vocabulary");
                    }
                }
                merges.Add(new BpeMerge(left, right));
            }
        }
        catch (DecoderFallbackException exception)
        {
            throw new InvalidDataException($"{path}: not UTF-8 text after line {lineNumber}", exception);
        }
        return merges;
    }

    /// <summary>Reads special_tokens.json; an absent file means no special tokens.</summary>
    public static List<string> ReadSpecialTokens(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }
        try
        {
            return JsonSerializer.Deserialize<List<string>>(File.ReadAllBytes(path))
                ?? throw new InvalidDataException($"{path}: expected a JSON array of strings, found null");
        }
        catch (JsonException exception)
        {
            throw new InvalidDataException($"{path}: expected a JSON array of strings ({exception.Message})", exception);
        }
    }

    static byte[] DecodeToken(string token, string path, int lineNumber) =>
        ByteToUnicode.TryDecode(token, out byte[] bytes)
            ? bytes
            : throw new InvalidDataException($"{path}:{lineNumber}: token \"{token}\" has a character outside GPT-2's byte-to-unicode alphabet");
}
