using System.CommandLine;
using System.Globalization;
using SharpLM.Cli.Training;
using SharpLM.Distributed;
using SharpLM.Precision;
using SharpLM.Training;

namespace SharpLM.Cli.Commands;

/// <summary>`sharplm train`: trains a Transformer LM and writes a run directory (config, metrics, checkpoints, curves).</summary>
internal sealed class TrainCommand : Command
{
    readonly TrainingOptions options = new();
    readonly Option<bool> resume = new("--resume") { Description = "Continue the run in --run-dir from its latest checkpoint." };

    public TrainCommand() : base("train", "Train a Transformer language model on text or token files.")
    {
        options.AddTo(this);
        Options.Add(resume);
        SetAction((parse, cancellation) => Task.FromResult(Run(parse, cancellation)));
    }

    int Run(ParseResult parse, CancellationToken cancellation)
    {
        var output = parse.InvocationConfiguration.Output;
        bool resuming = parse.GetValue(resume);
        var baseline = new TrainingConfig();
        if (resuming)
        {
            string runDirectory = options.Resolve(parse, baseline).RunDirectory
                ?? throw new ArgumentException("--resume needs --run-dir: the run to continue.");
            var saved = new RunDirectory(runDirectory).ConfigPath;
            baseline = File.Exists(saved) ? TrainingConfig.Load(saved) : baseline;
        }
        var config = options.Resolve(parse, baseline);
        return Execute(config, resuming, output, parse.InvocationConfiguration.Error, cancellation);
    }

    /// <summary>
    /// Prepares, trains and reports; shared with `sharplm quickstart`. Started by mpirun, mpiexec or srun, this
    /// process is one rank of a data-parallel job; otherwise no MPI library is loaded.
    /// </summary>
    internal static int Execute(TrainingConfig config, bool resuming, TextWriter output, TextWriter error, CancellationToken cancellation) =>
        LaunchedWorld.FromEnvironment() is { } world
            ? MpiJob.Run(world, output, error, (group, rankOutput) => Execute(config, resuming, rankOutput, error, cancellation, group))
            : Execute(config, resuming, output, error, cancellation, SingleProcess.Instance);

    static int Execute(TrainingConfig config, bool resuming, TextWriter output, TextWriter error, CancellationToken cancellation, IProcessGroup group)
    {
        using var session = PreparationDisplay.Run(output, progress => TrainingSession.Create(config, resuming, progress, cancellation, group));
        foreach (string note in session.Notes)
        {
            error.WriteLine($"warning: {note}");
        }
        var model = session.ModelConfig;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"run {session.Run.Path}: {session.ParameterCount:N0} parameters (d_model {model.DModel}, {model.NumLayers} layers, {model.NumHeads} heads, d_ff {model.DFf}, vocab {model.VocabSize}, context {model.ContextLength}; {model.DescribeOptions()})"));
        string resumeNote = session.Start.Step > 0 ? $", resuming at step {session.Start.Step}" : "";
        string length = session.Config.TimeBudget is { } budget
            ? string.Create(CultureInfo.InvariantCulture, $"steps of {session.TokensPerStep:N0} tokens for {Duration.Format(budget)} of training time")
            : string.Create(CultureInfo.InvariantCulture, $"{session.TotalSteps:N0} steps of {session.TokensPerStep:N0} tokens");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"data: {session.Data.Train.Count:N0} training tokens, {session.Data.Validation?.Count ?? 0:N0} validation tokens; {length}{resumeNote}"));
        if (group.Size > 1)
        {
            string library = group is MpiProcessGroup mpi ? $", {mpi.Library}" : "";
            output.WriteLine($"world: {group.Size} ranks ({group.LocalSize} per host), threads per rank: {session.Threads}{library}");
        }

        output.WriteLine($"precision: {new PrecisionChoice(session.Config.Precision, session.Config.PrecisionReason ?? "")}");

        var console = TrainingConsole.For(output);
        using var onInterrupt = cancellation.Register(() => error.WriteLine("\ninterrupted: finishing this step and saving a checkpoint..."));
        var outcome = session.Train(console, cancellation);
        console.Finish();
        switch (outcome.Reason)
        {
            case TrainingStopReason.Interrupted:
                output.WriteLine($"{outcome.Message}. Continue with: sharplm train --resume --run-dir {session.Run.Path}");
                return ExitCodes.Interrupted;
            case TrainingStopReason.NonFiniteLoss:
                error.WriteLine($"error: {outcome.Message}");
                return ExitCodes.InputError;
            default:
                string validation = outcome.LastEvaluation is { } eval
                    ? string.Create(CultureInfo.InvariantCulture, $", validation loss {eval.Loss:F4} (perplexity {eval.Perplexity:F2})")
                    : "";
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"done: step {outcome.Step}, train loss {outcome.LastTrainLoss:F4}{validation}"));
                output.WriteLine($"run directory: {session.Run.Path} (metrics.jsonl, loss-by-step.png, loss-by-time.png, checkpoints/)");
                return ExitCodes.Success;
        }
    }
}
