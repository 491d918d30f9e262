using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using SharpLM.IO;
using SharpLM.Tokenization;

namespace SharpLM.Bench;

/// <summary>
/// BPE training time on corpus.en (vocab 500, the CS336 test) and the TinyStories 2 MiB sample (vocab 10000),
/// the hand-written pre-tokenizer against the regex it replaces, and GPT-2 encoding and decoding throughput of
/// SharpLM against Microsoft.ML.Tokenizers on the same files and text.
/// MB is 10^6 bytes of UTF-8 input. "cold" is the first run in the process (JIT and empty caches included),
/// "warm" the best of the following runs.
/// </summary>
public static partial class TokenizerSuite
{
    const string EndOfText = "<|endoftext|>";

    public static void Run(BenchContext context)
    {
        var table = new MarkdownTable("benchmark", "input", "cold", "warm", "warm MB/s", "peak memory");
        string corpus = context.DataPath("cs336", "corpus.en");
        string stories = context.DataPath("tinystories", "tinystories_v1_train_head_2MiB.txt");

        foreach (string learner in new[] { "incremental", "reference" })
        {
            Measure(table, $"train vocab 500 ({learner} merges)", corpus, learner == "incremental" ? 5 : 1,
                () => BpeTrainer.Train(corpus, 500, [EndOfText], MergeLearners.ByName[learner](), null, default));
        }
        Measure(table, "train vocab 10000", stories, 3, () => BpeTrainer.Train(stories, 10_000, [EndOfText]));

        string storiesText = File.ReadAllText(stories);
        Measure(table, "pre-tokenize, hand-written", stories, 5, () =>
        {
            int count = 0;
            foreach (ReadOnlySpan<char> piece in Gpt2PreTokenizer.Split(storiesText))
            {
                count++;
            }
            return count;
        });
        Measure(table, "pre-tokenize, Regex (source-generated)", stories, 5, () =>
        {
            int count = 0;
            foreach (ValueMatch match in Gpt2Regex().EnumerateMatches(storiesText))
            {
                count++;
            }
            return count;
        });

        string vocabulary = context.DataPath("cs336", "gpt2_vocab.json");
        string merges = context.DataPath("cs336", "gpt2_merges.txt");
        var ours = SharpLM.Tokenization.Tokenizer.FromFiles(vocabulary, merges, [EndOfText]);
        var microsoft = CreateMicrosoft(vocabulary, merges);
        foreach (string path in new[] { stories, context.DataPath("tinyshakespeare", "input.txt") })
        {
            string text = File.ReadAllText(path);
            Measure(table, "encode GPT-2, SharpLM", path, 5, () => ours.Encode(text));
            Measure(table, "encode GPT-2, Microsoft.ML.Tokenizers", path, 5, () => microsoft.EncodeToIds(text));
            Measure(table, "encode GPT-2 streaming from file, SharpLM", path, 5, () =>
            {
                using var reader = Utf8TextReader.Open(path);
                long count = 0;
                foreach (int[] batch in ours.EncodeBatches(reader))
                {
                    count += batch.Length;
                }
                return count;
            });
        }
        int[] ids = ours.Encode(File.ReadAllText(stories));
        Measure(table, "decode GPT-2, SharpLM", stories, 5, () => ours.Decode(ids));
        Measure(table, "decode GPT-2, Microsoft.ML.Tokenizers", stories, 5, () => microsoft.Decode(ids));

        context.Output.WriteLine("## tokenizer");
        context.Output.WriteLine();
        table.Print(context.Output);
    }

    /// <summary>Runs <paramref name="work"/> once cold and <paramref name="warmRuns"/> more times; adds a row.</summary>
    static void Measure(MarkdownTable table, string name, string inputPath, int warmRuns, Func<object> work)
    {
        long bytes = new FileInfo(inputPath).Length;
        PeakMemory.Reset();
        var stopwatch = Stopwatch.StartNew();
        GC.KeepAlive(work());
        TimeSpan cold = stopwatch.Elapsed;
        TimeSpan warm = TimeSpan.MaxValue;
        for (int run = 0; run < warmRuns; run++)
        {
            stopwatch.Restart();
            GC.KeepAlive(work());
            warm = stopwatch.Elapsed < warm ? stopwatch.Elapsed : warm;
        }
        long peak = PeakMemory.Bytes();
        table.Add(name, $"{Path.GetFileName(inputPath)} ({bytes / 1e6:F2} MB)", Seconds(cold),
            warmRuns > 0 ? Seconds(warm) : "-", warmRuns > 0 ? $"{bytes / 1e6 / warm.TotalSeconds:F1}" : "-", PeakMemory.Format(peak));
    }

    static string Seconds(TimeSpan time) => $"{time.TotalSeconds:F3} s";

    static BpeTokenizer CreateMicrosoft(string vocabulary, string merges)
    {
        var specials = new Dictionary<string, int> { [EndOfText] = 50256 };
        return BpeTokenizer.Create(new BpeOptions(vocabulary, merges)
        {
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(Gpt2Regex(), specials),
            SpecialTokens = specials,
        });
    }

    [GeneratedRegex(Gpt2PreTokenizer.Pattern)]
    private static partial Regex Gpt2Regex();
}
