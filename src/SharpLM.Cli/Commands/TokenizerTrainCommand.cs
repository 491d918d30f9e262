using System.CommandLine;
using System.Diagnostics;
using System.Text;
using SharpLM.Cli.Progress;
using SharpLM.Tokenization;

namespace SharpLM.Cli.Commands;

/// <summary>
/// `sharplm tokenizer train --input corpus.txt --vocab-size 10000 --special "&lt;|endoftext|&gt;" --out tok/`:
/// trains a BPE tokenizer and saves it in GPT-2's format; prints time, peak memory and the longest token.
/// </summary>
internal sealed class TokenizerTrainCommand : Command
{
    readonly Option<string> _input = new("--input", "-i") { Description = "UTF-8 text file to train on.", Required = true };

    readonly Option<int> _vocabSize = new("--vocab-size")
    {
        Description = "Vocabulary size: 256 bytes + special tokens + merges.",
        // The handout's size for TinyStories (§2.5).
        DefaultValueFactory = _ => 10_000,
    };

    readonly Option<string[]> _special = new("--special")
    {
        Description = "A special token, e.g. \"<|endoftext|>\"; repeat for more. Text is split at them and they never merge.",
        Arity = ArgumentArity.ZeroOrMore,
    };

    readonly Option<string> _out = new("--out", "-o") { Description = "Directory to write vocab.json, merges.txt and special_tokens.json to.", Required = true };

    public TokenizerTrainCommand() : base("train", "Train a byte-level BPE tokenizer on a text file.")
    {
        Options.Add(_input);
        Options.Add(_vocabSize);
        Options.Add(_special);
        Options.Add(_out);
        SetAction((parseResult, cancellationToken) => Task.FromResult(Run(parseResult, cancellationToken)));
    }

    int Run(ParseResult parseResult, CancellationToken cancellationToken)
    {
        TextWriter output = parseResult.InvocationConfiguration.Output;
        string input = parseResult.GetRequiredValue(_input);
        int vocabSize = parseResult.GetValue(_vocabSize);
        string[] specials = parseResult.GetValue(_special) ?? [];
        string outDirectory = parseResult.GetRequiredValue(_out);
        if (!File.Exists(input))
        {
            throw new FileNotFoundException($"input file not found: {input}", input);
        }

        long inputBytes = new FileInfo(input).Length;
        var stopwatch = Stopwatch.StartNew();
        BpeTrainingResult result;
        try
        {
            result = ProgressDisplay.Run(output, board =>
            {
                ProgressBar preTokenizing = board.Add("pre-tokenizing", inputBytes, ProgressUnit.Bytes);
                ProgressBar merging = board.Add("merging", Math.Max(vocabSize - 256 - specials.Length, 0));
                var progress = new CallbackProgress<BpeTrainingProgress>(report =>
                    (report.Phase == BpeTrainingPhase.PreTokenizing ? preTokenizing : merging).Update(report.Done, report.Total));
                return BpeTrainer.Train(input, vocabSize, specials, progress, cancellationToken);
            });
        }
        catch (OperationCanceledException)
        {
            parseResult.InvocationConfiguration.Error.WriteLine("interrupted; nothing was saved");
            return ExitCodes.Interrupted;
        }
        TimeSpan elapsed = stopwatch.Elapsed;

        var tokenizer = result.ToTokenizer();
        tokenizer.Save(outDirectory);
        var specialIds = specials.Select(special => tokenizer.SpecialTokenId(special)).ToHashSet();
        var (longestId, longest) = result.Vocabulary
            .Where(entry => !specialIds.Contains(entry.Key))
            .MaxBy(entry => (entry.Value.Length, -entry.Key));
        output.WriteLine($"trained {result.Vocabulary.Count:N0} tokens ({result.Merges.Count:N0} merges) on {input} " +
            $"({inputBytes / 1e6:F2} MB) in {elapsed.TotalSeconds:F2} s ({inputBytes / 1e6 / elapsed.TotalSeconds:F1} MB/s)");
        using (var process = Process.GetCurrentProcess())
        {
            output.WriteLine($"peak memory: {process.PeakWorkingSet64 / (1024 * 1024)} MiB");
        }
        output.WriteLine($"longest token: id {longestId}, {longest.Length} bytes, {Quote(longest)}");
        output.WriteLine($"saved to {outDirectory} (tokenizer hash {tokenizer.Hash[..16]})");
        return ExitCodes.Success;
    }

    /// <summary>The token's text in quotes, with control characters and invalid UTF-8 made visible.</summary>
    static string Quote(byte[] bytes)
    {
        var text = new StringBuilder("\"");
        foreach (char c in Encoding.UTF8.GetString(bytes))
        {
            text.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '"' => "\\\"",
                '\\' => "\\\\",
                _ when char.IsControl(c) => $"\\u{(int)c:X4}",
                _ => c.ToString(),
            });
        }
        return text.Append('"').ToString();
    }
}
