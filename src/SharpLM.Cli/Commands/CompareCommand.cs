using System.CommandLine;
using SharpLM.Experiments;

namespace SharpLM.Cli.Commands;

/// <summary>`sharplm compare`: the table and overlaid curves of existing run directories.</summary>
internal sealed class CompareCommand : Command
{
    readonly Argument<string[]> runs = new("runs") { Description = "Run directories (each with config.json and metrics.jsonl).", Arity = ArgumentArity.OneOrMore };
    readonly Option<string> output = new("--out") { Description = "Directory for compare.md, compare.json, curves-by-step.png and curves-by-time.png.", Required = true };

    readonly Option<double> divergeFactor = new("--diverge-factor")
    {
        Description = "Mark a run diverged when its loss rose above this many times its first (the untrained model's) or became NaN.",
        DefaultValueFactory = _ => Divergence.DefaultFactor,
    };

    public CompareCommand() : base("compare", "Put runs side by side: a table sorted by final loss and their learning curves overlaid by step and by time.")
    {
        Arguments.Add(runs);
        Options.Add(output);
        Options.Add(divergeFactor);
        SetAction(Run);
    }

    int Run(ParseResult parse)
    {
        var console = parse.InvocationConfiguration.Output;
        var rule = new Divergence(parse.GetValue(divergeFactor));
        string directory = parse.GetRequiredValue(output);
        var summaries = parse.GetRequiredValue(runs).Select(run => RunSummary.Load(run, rule)).ToList();
        var differences = ConfigDifferences.Describe(summaries.Select(s => s.Config).ToList());
        var rows = ComparisonReport.Rows(summaries, differences);
        ComparisonReport.Write(directory, "compare", $"# Comparison of {summaries.Count} runs\n\nSorted by final validation loss, diverged runs last.\n\n", summaries, rows, rows);
        console.Write(ComparisonReport.Table(rows));
        console.WriteLine($"written: {Path.Combine(directory, "compare.md")}, compare.json, curves-by-step.png, curves-by-time.png");
        return ExitCodes.Success;
    }
}
