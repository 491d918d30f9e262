using System.Text;
using SharpLM.Tokenization;

namespace SharpLM.Tests.Tokenization;

public sealed class TokenizerTests : IDisposable
{
    readonly string _directory = Directory.CreateTempSubdirectory("sharplm-tokenizer-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>All 256 bytes plus the given merges, each merged token getting the next id.</summary>
    static Tokenizer ByteLevel(string[] merges, IEnumerable<string>? specials = null)
    {
        var vocabulary = Enumerable.Range(0, 256).ToDictionary(b => b, b => new[] { (byte)b });
        var pairs = new List<BpeMerge>();
        foreach (string merge in merges)
        {
            string[] parts = merge.Split(' ');
            pairs.Add(new BpeMerge(B(parts[0]), B(parts[1])));
            vocabulary.Add(vocabulary.Count, B(parts[0] + parts[1]));
        }
        return new Tokenizer(vocabulary, pairs, specials);
    }

    [Fact]
    public void Encode_OnHandoutExample_GivesHandoutIds()
    {
        // Handout §2.6.1, bpe_encoding.
        var vocabulary = new Dictionary<int, byte[]>
        {
            [0] = B(" "),
            [1] = B("a"),
            [2] = B("c"),
            [3] = B("e"),
            [4] = B("h"),
            [5] = B("t"),
            [6] = B("th"),
            [7] = B(" c"),
            [8] = B(" a"),
            [9] = B("the"),
            [10] = B(" at"),
        };
        BpeMerge[] merges = [new(B("t"), B("h")), new(B(" "), B("c")), new(B(" "), B("a")), new(B("th"), B("e")), new(B(" a"), B("t"))];
        var tokenizer = new Tokenizer(vocabulary, merges);
        Assert.Equal([9, 7, 1, 5, 10, 3], tokenizer.Encode("the cat ate"));
        Assert.Equal("the cat ate", tokenizer.Decode([9, 7, 1, 5, 10, 3]));
    }

    [Fact]
    public void Encode_WithMissingByteToken_ThrowsNamingTheByte()
    {
        var tokenizer = new Tokenizer(new Dictionary<int, byte[]> { [0] = B("a") }, []);
        var exception = Assert.Throws<ArgumentException>(() => tokenizer.Encode("ab"));
        Assert.Contains("0x62", exception.Message);
    }

    [Fact]
    public void Encode_WithOverlappingSpecialTokens_PrefersTheLongest()
    {
        var tokenizer = ByteLevel([], ["<|endoftext|>", "<|endoftext|><|endoftext|>"]);
        int single = tokenizer.SpecialTokenId("<|endoftext|>")!.Value;
        int doubled = tokenizer.SpecialTokenId("<|endoftext|><|endoftext|>")!.Value;
        int[] ids = tokenizer.Encode("a<|endoftext|><|endoftext|><|endoftext|>b");
        Assert.Equal([(int)'a', doubled, single, (int)'b'], ids);
        Assert.Equal("a<|endoftext|><|endoftext|><|endoftext|>b", tokenizer.Decode(ids));
    }

    [Fact]
    public void Encode_WithoutSpecialTokens_TreatsThemAsText()
    {
        var tokenizer = ByteLevel([]);
        Assert.Equal("<|endoftext|>".Length, tokenizer.Encode("<|endoftext|>").Length);
    }

    [Fact]
    public void Constructor_WithSpecialTokenNotInVocabulary_AppendsIt()
    {
        var tokenizer = ByteLevel(["a b"], ["<|endoftext|>"]);
        Assert.Equal(258, tokenizer.VocabularySize);
        Assert.Equal(257, tokenizer.SpecialTokenId("<|endoftext|>"));
        Assert.Null(tokenizer.SpecialTokenId("<|other|>"));
    }

    [Fact]
    public void Constructor_WithMergeOfUnknownToken_Throws()
    {
        var vocabulary = Enumerable.Range(0, 256).ToDictionary(b => b, b => new[] { (byte)b });
        Assert.Throws<ArgumentException>(() => new Tokenizer(vocabulary, [new BpeMerge(B("a"), B("b"))]));
    }

    [Fact]
    public void Encode_AppliesMergesInOrderOfCreation()
    {
        // "b c" was learned first, so "abc" is a + bc even though "a b" exists too.
        var tokenizer = ByteLevel(["b c", "a b", "a bc"]);
        Assert.Equal([258], tokenizer.Encode("abc"));
        Assert.Equal([257, 257], tokenizer.Encode("abab"));
    }

    [Fact]
    public void Encode_WithUnpairedSurrogate_Throws() =>
        Assert.Throws<ArgumentException>(() => ByteLevel([]).Encode("a\ud800b"));

    [Fact]
    public void Decode_OfMalformedUtf8_GivesReplacementCharacters()
    {
        var tokenizer = ByteLevel([]);
        Assert.Equal("a\uFFFDb", tokenizer.Decode([(int)'a', 0xE2, 0x82, (int)'b']));
        Assert.Equal("\uFFFD\uFFFD", tokenizer.Decode(new List<int> { 0xFF, 0xC0 }));
    }

    [Fact]
    public void Decode_OfUnknownId_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ByteLevel([]).Decode([300]));

    [Fact]
    public void Save_ThenLoad_GivesTheSameTokenizer()
    {
        var tokenizer = ByteLevel(["a b", "ab c", "\n \n"], ["<|endoftext|>"]);
        string directory = Path.Combine(_directory, "saved");
        tokenizer.Save(directory);
        var loaded = Tokenizer.Load(directory);
        Assert.Equal(tokenizer.Hash, loaded.Hash);
        Assert.Equal(tokenizer.SpecialTokens, loaded.SpecialTokens);
        Assert.Equal(tokenizer.Merges.Select(merge => merge.ToString()), loaded.Merges.Select(merge => merge.ToString()));
        const string text = "abc\n\nĠt <|endoftext|> ab";
        Assert.Equal(tokenizer.Encode(text), loaded.Encode(text));
        Assert.Equal(["merges.txt", "special_tokens.json", "vocab.json"], Directory.GetFiles(directory).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Hash_DependsOnSpecialTokens()
    {
        Assert.Equal(ByteLevel(["a b"]).Hash, ByteLevel(["a b"]).Hash);
        Assert.NotEqual(ByteLevel(["a b"]).Hash, ByteLevel(["a b"], ["<|endoftext|>"]).Hash);
    }

    [Fact]
    public void FromFiles_WithMergeOfUnknownToken_ThrowsNamingTheLine()
    {
        string vocabulary = Path.Combine(_directory, "vocab.json");
        string merges = Path.Combine(_directory, "merges.txt");
        ByteLevel(["a b"]).Save(_directory);
        File.WriteAllText(merges, "#version: 0.2\na b\nab c\n");
        var exception = Assert.Throws<InvalidDataException>(() => Tokenizer.FromFiles(vocabulary, merges));
        Assert.Contains("merges.txt:3", exception.Message);
        Assert.Contains("\"abc\"", exception.Message);
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("[1, 2]")]
    [InlineData("{\"a\": \"one\"}")]
    [InlineData("{\"a\": 0, \"b\": 0}")]
    [InlineData("{\"a b\": 0}")]
    public void FromFiles_WithBadVocabulary_ThrowsInvalidData(string json)
    {
        string vocabulary = Path.Combine(_directory, "vocab.json");
        string merges = Path.Combine(_directory, "merges.txt");
        File.WriteAllText(vocabulary, json);
        File.WriteAllText(merges, "");
        Assert.Throws<InvalidDataException>(() => Tokenizer.FromFiles(vocabulary, merges));
    }

    [Fact]
    public void FromFiles_WithMalformedMergeLine_ThrowsNamingTheLine()
    {
        ByteLevel([]).Save(_directory);
        string merges = Path.Combine(_directory, "merges.txt");
        File.WriteAllText(merges, "a b c\n");
        var exception = Assert.Throws<InvalidDataException>(() => Tokenizer.FromFiles(Path.Combine(_directory, "vocab.json"), merges));
        Assert.Contains("merges.txt:1", exception.Message);
    }

    [Fact]
    public void Load_OfMissingDirectory_ThrowsDirectoryNotFound() =>
        Assert.Throws<DirectoryNotFoundException>(() => Tokenizer.Load(Path.Combine(_directory, "nothing")));

    [Fact]
    public void EncodeStream_InSmallChunks_EqualsEncode()
    {
        var tokenizer = ByteLevel(["h e", "t he", "' s", "< |"], ["<|endoftext|>", "<|end|>"]);
        var random = new Random(11);
        string[] pieces = ["the", " the", "<|endoftext|>", "<|end|>", "<|end", "  ", "\n", "'s", "'", "日本", "😀", "x", "1", "!"];
        for (int trial = 0; trial < 200; trial++)
        {
            string text = string.Concat(Enumerable.Range(0, random.Next(0, 60)).Select(_ => pieces[random.Next(pieces.Length)]));
            int[] expected = tokenizer.Encode(text);
            foreach (int chunkLength in new[] { 2, 3, 16, 1 << 16 })
            {
                int[] streamed = [.. tokenizer.EncodeBatches(new StringReader(text), chunkLength).SelectMany(batch => batch)];
                Assert.True(expected.SequenceEqual(streamed), $"chunk length {chunkLength} differs on \"{text}\"");
            }
        }
    }

    [Fact]
    public void EncodeStream_OnEndlessInput_YieldsIdsLazilyInBoundedMemory()
    {
        var tokenizer = ByteLevel(["h e"]);
        var reader = new EndlessReader("he said hello ");
        var chunker = new TextChunker(reader, SpecialTokenMatcher.None, 1024);
        for (int i = 0; i < 1000; i++)
        {
            Assert.True(chunker.TryRead(out _));
        }
        Assert.Equal(1024, chunker.BufferCapacity);
        Assert.Equal(100_000, tokenizer.EncodeStream(new EndlessReader("he said hello ")).Take(100_000).Count());
    }

    /// <summary>Repeats a text forever.</summary>
    sealed class EndlessReader(string text) : TextReader
    {
        long _position;

        public override int Read(char[] buffer, int index, int count)
        {
            for (int i = 0; i < count; i++)
            {
                buffer[index + i] = text[(int)(_position++ % text.Length)];
            }
            return count;
        }
    }
}
