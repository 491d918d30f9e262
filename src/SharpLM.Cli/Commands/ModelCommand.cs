using System.CommandLine;

namespace SharpLM.Cli.Commands;

/// <summary>`sharplm model`: inspect Transformer LM architectures.</summary>
internal sealed class ModelCommand : Command
{
    public ModelCommand() : base("model", "Inspect Transformer language model architectures.")
    {
        Subcommands.Add(new ModelDescribeCommand());
    }
}
