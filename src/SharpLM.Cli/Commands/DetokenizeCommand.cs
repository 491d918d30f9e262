using System.CommandLine;
using SharpLM.Data;
using SharpLM.IO;
using SharpLM.Tokenization;

namespace SharpLM.Cli.Commands;

/// <summary>
/// `sharplm detokenize --tokenizer tok/ --input corpus.tokens --out corpus.txt`: the inverse of tokenize. It
/// checks the token file's sidecar (format, version, length and that it was made by this tokenizer) and
/// writes the tokens' bytes, so tokenize followed by detokenize gives back the input byte for byte.
/// </summary>
internal sealed class DetokenizeCommand : Command
{
    readonly Option<string> _tokenizer = new("--tokenizer", "-t") { Description = "Tokenizer directory the token file was made with.", Required = true };

    readonly Option<string> _input = new("--input", "-i") { Description = "Token file written by `sharplm tokenize`.", Required = true };

    readonly Option<string> _out = new("--out", "-o") { Description = "Text file to write.", Required = true };

    public DetokenizeCommand() : base("detokenize", "Decode a token file back into text.")
    {
        Options.Add(_tokenizer);
        Options.Add(_input);
        Options.Add(_out);
        SetAction(Run);
    }

    int Run(ParseResult parseResult)
    {
        var tokenizer = Tokenizer.Load(parseResult.GetRequiredValue(_tokenizer));
        string input = parseResult.GetRequiredValue(_input);
        string outPath = parseResult.GetRequiredValue(_out);
        IEnumerable<int[]> batches = TokenFile.Read(input, tokenizer.Hash);
        long bytes = 0;
        AtomicFile.Write(outPath, stream =>
        {
            foreach (int[] batch in batches)
            {
                foreach (int id in batch)
                {
                    ReadOnlySpan<byte> token = tokenizer.TokenBytes(id);
                    stream.Write(token);
                    bytes += token.Length;
                }
            }
        });
        parseResult.InvocationConfiguration.Output.WriteLine($"wrote {outPath} ({bytes / 1e6:F2} MB)");
        return ExitCodes.Success;
    }
}
