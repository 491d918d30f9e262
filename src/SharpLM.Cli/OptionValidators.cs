using System.CommandLine.Parsing;

namespace SharpLM.Cli;

/// <summary>Checks the verbs attach to their options, so that each bad value is the same one-line usage error.</summary>
internal static class OptionValidators
{
    /// <summary>An int option that must be 1 or more (counts, batch sizes, steps).</summary>
    public static void AtLeastOne(OptionResult result)
    {
        if (result.GetValueOrDefault<int>() < 1)
        {
            result.AddError($"{result.Option.Name} must be at least 1.");
        }
    }
}
