using System.CommandLine;
using System.Diagnostics;
using SharpLM.Cli.Progress;
using SharpLM.Data;
using SharpLM.Tokenization;

namespace SharpLM.Cli.Commands;

/// <summary>
/// `sharplm tokenize --tokenizer tok/ --input corpus.txt --out corpus.tokens`: encodes a text file into a
/// token file (see <see cref="TokenFile"/>) in constant memory; prints bytes per token and throughput.
/// </summary>
internal sealed class TokenizeCommand : Command
{
    readonly Option<string> _tokenizer = new("--tokenizer", "-t") { Description = "Tokenizer directory written by `sharplm tokenizer train`.", Required = true };

    readonly Option<string> _input = new("--input", "-i") { Description = "UTF-8 text file to encode.", Required = true };

    readonly Option<string> _out = new("--out", "-o") { Description = "Token file to write; its description goes to <out>.json.", Required = true };

    public TokenizeCommand() : base("tokenize", "Encode a text file into a token file for training.")
    {
        Options.Add(_tokenizer);
        Options.Add(_input);
        Options.Add(_out);
        SetAction((parseResult, cancellationToken) => Task.FromResult(Run(parseResult, cancellationToken)));
    }

    int Run(ParseResult parseResult, CancellationToken cancellationToken)
    {
        TextWriter output = parseResult.InvocationConfiguration.Output;
        string input = parseResult.GetRequiredValue(_input);
        string outPath = parseResult.GetRequiredValue(_out);
        var tokenizer = Tokenizer.Load(parseResult.GetRequiredValue(_tokenizer));

        long inputBytes = new FileInfo(input).Length;
        var stopwatch = Stopwatch.StartNew();
        TokenFileInfo info;
        try
        {
            info = ProgressDisplay.Run(output, board =>
            {
                ProgressBar bar = board.Add("tokenizing", inputBytes, ProgressUnit.Bytes);
                var written = TokenFile.Encode(tokenizer, input, outPath, new CallbackProgress<long>(done => bar.Update(done)), cancellationToken);
                bar.Update(inputBytes);
                return written;
            });
        }
        catch (OperationCanceledException)
        {
            parseResult.InvocationConfiguration.Error.WriteLine("interrupted; nothing was written");
            return ExitCodes.Interrupted;
        }
        TimeSpan elapsed = stopwatch.Elapsed;

        output.WriteLine($"tokenized {input} ({inputBytes / 1e6:F2} MB) into {info.TokenCount:N0} tokens in {elapsed.TotalSeconds:F2} s " +
            $"({inputBytes / 1e6 / elapsed.TotalSeconds:F1} MB/s)");
        output.WriteLine($"compression: {(info.TokenCount == 0 ? 0 : (double)inputBytes / info.TokenCount):F2} bytes/token");
        output.WriteLine($"wrote {outPath} ({info.DType}) and {TokenFile.SidecarPath(outPath)}");
        return ExitCodes.Success;
    }
}
