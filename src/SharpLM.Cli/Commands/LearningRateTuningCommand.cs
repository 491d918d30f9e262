using System.CommandLine;
using System.Globalization;
using SharpLM.Training;

namespace SharpLM.Cli.Commands;

/// <summary>`sharplm experiment lr-tuning`: the handout's SGD learning-rate toy.</summary>
internal sealed class LearningRateTuningCommand : Command
{
    readonly Option<double[]> learningRates = new("--lr")
    {
        Description = "Learning rates to try.",
        DefaultValueFactory = _ => [.. LearningRateTuningExperiment.DefaultLearningRates],
        AllowMultipleArgumentsPerToken = true,
    };

    readonly Option<int> steps = new("--steps") { Description = "SGD steps per learning rate.", DefaultValueFactory = _ => 10 };

    readonly Option<long> seed = new("--seed") { Description = "Seed of the random initial weights.", DefaultValueFactory = _ => 42 };

    public LearningRateTuningCommand() : base("lr-tuning", "SGD (eq. 20) on loss mean(w²) for several learning rates; prints the loss per step.")
    {
        Options.Add(learningRates);
        Options.Add(steps);
        Options.Add(seed);
        steps.Validators.Add(OptionValidators.AtLeastOne);
        SetAction(Run);
    }

    int Run(ParseResult parse)
    {
        var output = parse.InvocationConfiguration.Output;
        var trials = LearningRateTuningExperiment.Run(parse.GetValue(learningRates)!, parse.GetValue(steps), parse.GetValue(seed));
        var invariant = CultureInfo.InvariantCulture;

        void Row(string label, Func<LearningRateTrial, string> cell) =>
            output.WriteLine($"{label,-10}" + string.Concat(trials.Select(t => $" | {cell(t),-12}")));

        Row("step", t => "lr = " + t.LearningRate.ToString("0.#e0", invariant));
        for (int step = 0; step < trials[0].Losses.Count; step++)
        {
            Row(step.ToString(invariant), t => t.Losses[step].ToString("0.0000e+00", invariant));
        }
        Row("last/first", t => t.Ratio.ToString("0.0000e+00", invariant));
        Row("verdict", t => t.Verdict);
        return ExitCodes.Success;
    }
}
