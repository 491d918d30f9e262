using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using SharpLM.IO;
using SharpLM.Tokenization;

namespace SharpLM.Bench.Suites;

/// <summary>
/// BPE training time on corpus.en (vocab 500, the CS336 test) and the TinyStories 2 MiB sample (vocab 10000),
/// the hand-written pre-tokenizer against the regex it replaces, and GPT-2 encoding and decoding throughput of
/// SharpLM against Microsoft.ML.Tokenizers on the same files and text. MB is 10^6 bytes of UTF-8 input. "cold"
/// is the first run in the process (JIT and empty caches included), "warm" the best of the following runs;
/// "peak RSS rise" is how far resident memory rose above where it was before the row (the managed heap keeps
/// what earlier rows grew, so later rows can show less than they allocate).
/// </summary>
public static partial class TokenizerBenchmarks
{
    const string EndOfText = "<|endoftext|>";

    public static void Run()
    {
        string data = FindSharedData();
        string corpus = Path.Combine(data, "cs336", "corpus.en");
        string stories = Path.Combine(data, "tinystories", "tinystories_v1_train_head_2MiB.txt");
        string shakespeare = Path.Combine(data, "tinyshakespeare", "input.txt");
        // Other processes on a shared machine slow every row; the load average says how much to trust a run.
        Console.WriteLine($"Load average at start: {(File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3]) : "?")}");
        Console.WriteLine();
        var rows = new List<string[]>();

        foreach (string learner in new[] { "incremental", "reference" })
        {
            rows.Add(Measure($"train vocab 500 ({learner} merges)", corpus, learner == "incremental" ? 5 : 1,
                () => BpeTrainer.Train(corpus, 500, [EndOfText], MergeLearners.ByName[learner](), null, default)));
        }
        rows.Add(Measure("train vocab 10000", stories, 3, () => BpeTrainer.Train(stories, 10_000, [EndOfText])));

        string storiesText = File.ReadAllText(stories);
        rows.Add(Measure("pre-tokenize, hand-written", stories, 5, () =>
        {
            int count = 0;
            foreach (ReadOnlySpan<char> _ in Gpt2PreTokenizer.Split(storiesText))
            {
                count++;
            }
            return count;
        }));
        rows.Add(Measure("pre-tokenize, Regex (source-generated)", stories, 5, () => Gpt2Regex().Count(storiesText)));

        string vocabulary = Path.Combine(data, "cs336", "gpt2_vocab.json");
        string merges = Path.Combine(data, "cs336", "gpt2_merges.txt");
        var ours = SharpLM.Tokenization.Tokenizer.FromFiles(vocabulary, merges, [EndOfText]);
        var microsoft = CreateMicrosoft(vocabulary, merges);
        foreach (string path in new[] { stories, shakespeare })
        {
            string text = File.ReadAllText(path);
            rows.Add(Measure("encode GPT-2, SharpLM", path, 5, () => ours.Encode(text)));
            rows.Add(Measure("encode GPT-2, Microsoft.ML.Tokenizers", path, 5, () => microsoft.EncodeToIds(text)));
            rows.Add(Measure("encode GPT-2 streaming from file, SharpLM", path, 5, () =>
            {
                using var reader = Utf8TextReader.Open(path);
                return ours.EncodeBatches(reader).Sum(batch => (long)batch.Length);
            }));
        }
        int[] ids = ours.Encode(storiesText);
        rows.Add(Measure("decode GPT-2, SharpLM", stories, 5, () => ours.Decode(ids)));
        rows.Add(Measure("decode GPT-2, Microsoft.ML.Tokenizers", stories, 5, () => microsoft.Decode(ids)));

        PrintTable(["benchmark", "input", "cold", "warm", "warm MB/s", "peak RSS rise"], rows);
    }

    /// <summary>Runs <paramref name="work"/> once cold and <paramref name="warmRuns"/> more times.</summary>
    static string[] Measure(string name, string inputPath, int warmRuns, Func<object> work)
    {
        long bytes = new FileInfo(inputPath).Length;
        TimeSpan cold = TimeSpan.Zero;
        TimeSpan warm = TimeSpan.MaxValue;
        GC.Collect();
        long? peak = PeakMemory.BytesAbove(() =>
        {
            var stopwatch = Stopwatch.StartNew();
            GC.KeepAlive(work());
            cold = stopwatch.Elapsed;
            for (int run = 0; run < warmRuns; run++)
            {
                stopwatch.Restart();
                GC.KeepAlive(work());
                warm = stopwatch.Elapsed < warm ? stopwatch.Elapsed : warm;
            }
        });
        return [name, $"{Path.GetFileName(inputPath)} ({bytes / 1e6:F2} MB)", Seconds(cold), Seconds(warm),
            $"{bytes / 1e6 / warm.TotalSeconds:F1}", peak is { } value ? $"{value / (1024.0 * 1024.0):F0} MiB" : "-"];
    }

    static string Seconds(TimeSpan time) => $"{time.TotalSeconds:F3} s";

    static void PrintTable(string[] columns, List<string[]> rows)
    {
        int[] widths = [.. columns.Select((column, i) => rows.Select(row => row[i].Length).Append(column.Length).Max())];
        Console.WriteLine("| " + string.Join(" | ", columns.Select((column, i) => column.PadRight(widths[i]))) + " |");
        Console.WriteLine("|" + string.Join("|", widths.Select(width => new string('-', width + 2))) + "|");
        foreach (string[] row in rows)
        {
            Console.WriteLine("| " + string.Join(" | ", row.Select((cell, i) => cell.PadRight(widths[i]))) + " |");
        }
    }

    /// <summary>../shared/data above the current directory or the benchmark's binaries (the repository's sibling).</summary>
    static string FindSharedData()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                string candidate = Path.Combine(directory.FullName, "..", "shared", "data");
                if (Directory.Exists(candidate))
                {
                    return Path.GetFullPath(candidate);
                }
            }
        }
        throw new DirectoryNotFoundException("../shared/data not found beside the repository");
    }

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
