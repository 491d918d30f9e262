using System.CommandLine;

namespace SharpLM.Cli.Commands;

/// <summary>`sharplm tokenizer`: the group of tokenizer verbs.</summary>
internal sealed class TokenizerCommand : Command
{
    public TokenizerCommand() : base("tokenizer", "Byte-level BPE tokenizers (handout §2).")
    {
        Subcommands.Add(new TokenizerTrainCommand());
    }
}
