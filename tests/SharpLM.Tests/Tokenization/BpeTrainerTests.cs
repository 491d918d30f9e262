using System.Text;
using System.Text.Json;
using SharpLM.Tokenization;

namespace SharpLM.Tests.Tokenization;

public sealed class BpeTrainerTests : IDisposable
{
    readonly string _directory = Directory.CreateTempSubdirectory("sharplm-bpe-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    string WriteCorpus(string text)
    {
        string path = Path.Combine(_directory, $"corpus-{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }

    static List<string> MergeLines(BpeTrainingResult result) => [.. result.Merges.Select(merge => merge.ToString())];

    [SharedDataFact]
    public void Train_OnCorpusEnAtVocab500_EqualsCs336Reference()
    {
        var result = BpeTrainer.Train(SharedData.Path("cs336", "corpus.en"), 500, ["<|endoftext|>"]);

        string[] expectedMerges = File.ReadAllLines(SharedData.Path("cs336", "train-bpe-reference-merges.txt"));
        Assert.Equal(expectedMerges, MergeLines(result));
        var expectedVocabulary = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(SharedData.Path("cs336", "train-bpe-reference-vocab.json")))!;
        Assert.Equal(expectedVocabulary.Values.Order(), result.Vocabulary.Keys.Order());
        Assert.Equal(expectedVocabulary.Keys.Order(StringComparer.Ordinal), result.Vocabulary.Values.Select(bytes => ByteToUnicode.Encode(bytes)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Train_OnHandoutStyleCorpus_MergesMostFrequentPairAndBreaksTiesTowardsTheGreaterPair()
    {
        // Handout §2.4's example with GPT-2 pre-tokens: (e,s) and (s,t) tie first, (l,o) and (o,w) third.
        string path = WriteCorpus("low low low low low lower lower widest widest widest newest newest newest newest newest newest");
        var result = BpeTrainer.Train(path, 256 + 3, []);
        Assert.Equal(["s t", "e st", "o w"], MergeLines(result));
        Assert.Equal(259, result.Vocabulary.Count);
    }

    [Fact]
    public void Train_WithSpecialTokens_PutsThemAfterTheBytesAndNeverMergesAcrossThem()
    {
        string path = WriteCorpus("ab<|endoftext|>ab<|endoftext|>ab|><|endoftext|>");
        var result = BpeTrainer.Train(path, 300, ["<|endoftext|>"]);
        Assert.Equal("<|endoftext|>", Encoding.UTF8.GetString(result.Vocabulary[256]));
        Assert.Equal(["a b", "| >"], MergeLines(result));
        Assert.Equal(259, result.Vocabulary.Count);
    }

    [Fact]
    public void Train_WhenPairsRunOut_StopsBelowTheVocabSize()
    {
        var result = BpeTrainer.Train(WriteCorpus("abc"), 1000, []);
        Assert.Equal(["b c", "a bc"], MergeLines(result));
    }

    [SharedDataFact]
    public void IncrementalLearner_OnTinyStoriesSample_EqualsReference()
    {
        string path = SharedData.Path("cs336", "tinystories_sample.txt");
        var reference = BpeTrainer.Train(path, 700, ["<|endoftext|>"], MergeLearners.ByName["reference"](), null, default);
        foreach (var (name, create) in MergeLearners.ByName)
        {
            var result = BpeTrainer.Train(path, 700, ["<|endoftext|>"], create(), null, default);
            Assert.True(MergeLines(reference).SequenceEqual(MergeLines(result)), $"{name} differs from the reference");
        }
    }

    [Fact]
    public void IncrementalLearner_OnRandomCorpora_EqualsReference()
    {
        var random = new Random(7);
        for (int trial = 0; trial < 30; trial++)
        {
            // A small alphabet makes long repeats ("aaaa"), overlapping pairs and equal byte strings from different merges.
            string text = new([.. Enumerable.Range(0, 400).Select(_ => "aab ba\n"[random.Next(7)])]);
            var counts = new Dictionary<string, long>();
            PreTokenCounter.CountChunk(text, SpecialTokenMatcher.None, counts);
            var reference = new NaiveMergeLearner().Learn(counts, 256 + 40, [], null, default);
            var incremental = new IncrementalMergeLearner().Learn(counts, 256 + 40, [], null, default);
            Assert.Equal(MergeLines(reference), MergeLines(incremental));
            Assert.Equal(reference.Vocabulary.Count, incremental.Vocabulary.Count);
        }
    }

    [Fact]
    public void Train_WithLargeCorpusInSmallChunks_CountsLikeOneChunk()
    {
        var random = new Random(3);
        var text = new StringBuilder();
        for (int i = 0; i < 20000; i++)
        {
            text.Append(random.Next(10) switch { 0 => "<|endoftext|>", 1 => "\n\n", 2 => "  ", 3 => "'s", 4 => "日本", _ => "word " });
        }
        string path = WriteCorpus(text.ToString());
        var matcher = new SpecialTokenMatcher(["<|endoftext|>"]);
        var whole = new Dictionary<string, long>();
        PreTokenCounter.CountChunk(text.ToString(), matcher, whole);
        var chunked = PreTokenCounter.Count(path, matcher, null, default, chunkLength: 97);
        Assert.Equal(whole.OrderBy(entry => entry.Key, StringComparer.Ordinal), chunked.OrderBy(entry => entry.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void Train_ReportsProgressOfBothPhases()
    {
        var reports = new List<BpeTrainingProgress>();
        var progress = new SynchronousProgress<BpeTrainingProgress>(reports.Add);
        BpeTrainer.Train(WriteCorpus("hello hello world"), 260, [], progress);
        Assert.Contains(reports, report => report.Phase == BpeTrainingPhase.PreTokenizing && report.Done == report.Total);
        Assert.Contains(reports, report => report.Phase == BpeTrainingPhase.Merging && report.Done == report.Total);
    }

    [Fact]
    public void Train_WithVocabSizeBelowBytesAndSpecials_Throws()
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => BpeTrainer.Train(WriteCorpus("x"), 256, ["<|endoftext|>"]));
        Assert.Contains("257", exception.Message);
    }

    [Fact]
    public void Train_OnMissingFile_ThrowsFileNotFound() =>
        Assert.Throws<FileNotFoundException>(() => BpeTrainer.Train(Path.Combine(_directory, "missing.txt"), 300, []));

    [Fact]
    public void Train_OnInvalidUtf8_ThrowsWithTheByteOffset()
    {
        string path = Path.Combine(_directory, "latin1.txt");
        File.WriteAllBytes(path, [.. "caf"u8, 0xE9, .. " au lait"u8]);
        var exception = Assert.Throws<InvalidDataException>(() => BpeTrainer.Train(path, 300, []));
        Assert.Contains("byte offset 3", exception.Message);
    }

    /// <summary>Calls back on the reporting thread, unlike <see cref="Progress{T}"/>, so tests see every report.</summary>
    sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        readonly Lock _lock = new();

        public void Report(T value)
        {
            lock (_lock)
            {
                report(value);
            }
        }
    }
}
