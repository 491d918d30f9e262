using System.CommandLine;

namespace SharpLM.Cli.Commands;

/// <summary>`sharplm experiment`: small experiments from the handout.</summary>
internal sealed class ExperimentCommand : Command
{
    public ExperimentCommand() : base("experiment", "Run one of the handout's small experiments.")
    {
        Subcommands.Add(new LearningRateTuningCommand());
    }
}
