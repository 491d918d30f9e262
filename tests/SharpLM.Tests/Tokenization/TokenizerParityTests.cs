using SharpLM.Tokenization;

namespace SharpLM.Tests.Tokenization;

/// <summary>GPT-2 ids from SharpLM equal those of Microsoft.ML.Tokenizers on the same vocab.json and merges.txt.</summary>
public class TokenizerParityTests
{
    public static TheoryData<string> HandPicked() =>
    [
        "",
        "Hello, world! It's a test — with “curly quotes” and ‘apostrophes’.",
        "日本語のテキストと中文文本，还有한국어。",
        "e\u0301 a\u0308 n\u0303 Z\u0336\u0335 \u0301lone combining",
        "😀😂🤖 👍🏽 👨‍👩‍👧‍👦 🇫🇷 ✨emoji✨",
        "   leading and trailing spaces   ",
        "tabs\t\tand\nnewlines\n\n\nand\r\nCRLF \n \n  \n",
        "\u00a0nbsp\u2003em space\u3000ideographic\u2028line\u2029para",
        "<|endoftext|><|endoftext|>between<|endoftext|> <|endoftext|>",
        "numbers 12345 3.14 ½ ² ⅷ ١٢٣ 1,000,000",
        "mixed 'quotes' 'S 'LL 've I'm we'd they're",
        "\u0000\u0001 control \u007f\u0085",
        "Ελληνικά Русский עברית العربية हिन्दी ไทย",
        "zero\u200Bwidth\u200Djoiner\uFEFFbom",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        new string('=', 700) + new string(' ', 700) + "x",
    ];

    [SharedDataTheory]
    [MemberData(nameof(HandPicked))]
    public void Encode_OnHandPickedUnicode_EqualsMicrosoftAndRoundTrips(string text)
    {
        int[] ids = Gpt2Reference.Tokenizer.Encode(text);
        Assert.Equal(Gpt2Reference.Microsoft.EncodeToIds(text), ids);
        Assert.Equal(text, Gpt2Reference.Tokenizer.Decode(ids));
    }

    [SharedDataTheory]
    [MemberData(nameof(TextFiles.All), MemberType = typeof(TextFiles))]
    public void Encode_OnSharedDataFile_EqualsMicrosoftAndRoundTrips(string relativePath)
    {
        string text = File.ReadAllText(SharedData.Path(relativePath));
        int[] ids = Gpt2Reference.Tokenizer.Encode(text);
        SequenceAssert.Equal(Gpt2Reference.Microsoft.EncodeToIds(text), ids);
        Assert.True(text == Gpt2Reference.Tokenizer.Decode(ids), "decoding does not give the text back");
        using var reader = new StringReader(text);
        SequenceAssert.Equal(ids, [.. Gpt2Reference.Tokenizer.EncodeBatches(reader, 4096).SelectMany(batch => batch)]);
    }

    [SharedDataFact]
    public void Encode_WithoutSpecialTokens_SplitsEndOfTextLikeText()
    {
        var plain = Tokenizer.FromFiles(Gpt2Reference.VocabularyPath, Gpt2Reference.MergesPath);
        int[] ids = plain.Encode("<|endoftext|>");
        Assert.DoesNotContain(Gpt2Reference.EndOfTextId, ids);
        Assert.Equal([Gpt2Reference.EndOfTextId], Gpt2Reference.Tokenizer.Encode("<|endoftext|>"));
    }

    [SharedDataFact]
    public void ApplyWithHeap_OnRandomSymbols_EqualsApplyByScanning()
    {
        // Long pre-tokens use the heap; it must give the scan's result on GPT-2's merges.
        var tokenizer = Gpt2Reference.Tokenizer;
        var random = new Random(5);
        const string alphabet = "ab e\nst=-Ġ";
        for (int trial = 0; trial < 200; trial++)
        {
            string text = new([.. Enumerable.Range(0, random.Next(1, 400)).Select(_ => alphabet[random.Next(alphabet.Length)])]);
            int[] scanned = [.. System.Text.Encoding.UTF8.GetBytes(text).Select(tokenizer.IdOfByte)];
            int[] heaped = [.. scanned];
            int scannedCount = tokenizer.MergeTable.ApplyByScanning(scanned);
            int heapedCount = tokenizer.MergeTable.ApplyWithHeap(heaped);
            Assert.Equal(scanned[..scannedCount], heaped[..heapedCount]);
        }
    }

    [SharedDataFact]
    public void Encode_FromManyThreadsAtOnce_GivesTheSameIdsAsOneThread()
    {
        string[] lines = File.ReadAllLines(SharedData.Path("tinyshakespeare", "input.txt"))[..4000];
        var tokenizer = Gpt2Reference.Tokenizer;
        int[][] sequential = [.. lines.Select(tokenizer.Encode)];
        int[][] parallel = new int[lines.Length][];
        Parallel.For(0, lines.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => parallel[i] = tokenizer.Encode(lines[i]));
        Assert.True(sequential.Zip(parallel).All(pair => pair.First.SequenceEqual(pair.Second)));
    }
}
