using System.CommandLine;
using System.Globalization;
using SharpLM.Cli.Training;
using SharpLM.Experiments;
using SharpLM.Training;

namespace SharpLM.Cli.Commands;

/// <summary>`sharplm sweep`: trains every combination of a grid of settings and tabulates and plots them side by side.</summary>
internal sealed class SweepCommand : Command
{
    readonly TrainingOptions options = new();

    readonly Option<string[]> grid = new("--grid")
    {
        Description = "key=value1,value2,…: a config key (as in config.json, or max_lr / min_lr) and its values; repeat for more keys, every combination runs.",
    };

    readonly Option<string> output = new("--out") { Description = "Sweep directory: a run directory per combination, sweep.md, sweep.json, curves [default: runs/sweep-<timestamp>]." };
    readonly Option<int?> parallel = new("--parallel") { Description = "Runs at a time, the CPU cores split between them [default: 1]." };
    readonly Option<bool> resume = new("--resume") { Description = "Continue the sweep in --out: finished runs are kept, an interrupted one resumes from its checkpoint." };

    readonly Option<double> divergeFactor = new("--diverge-factor")
    {
        Description = "A run whose loss rises above this many times its first (the untrained model's), or becomes NaN, is stopped and marked diverged.",
        DefaultValueFactory = _ => Divergence.DefaultFactor,
    };

    public SweepCommand() : base("sweep", "Train a grid of runs (e.g. learning rates × batch sizes) and compare them: sweep.md, sweep.json, overlaid curves.")
    {
        // Each run's directory is its own under --out.
        options.AddTo(this, "--run-dir");
        Options.Add(grid);
        Options.Add(output);
        Options.Add(parallel);
        Options.Add(resume);
        Options.Add(divergeFactor);
        SetAction((parse, cancellation) => Task.FromResult(Run(parse, cancellation)));
    }

    int Run(ParseResult parse, CancellationToken cancellation)
    {
        var console = parse.InvocationConfiguration.Output;
        Sweep sweep;
        if (parse.GetValue(resume))
        {
            string directory = parse.GetValue(output) ?? throw new ArgumentException("--resume needs --out: the sweep to continue.");
            if (parse.GetValue(grid) is { Length: > 0 } || parse.GetValue(options.ConfigFile) is not null)
            {
                throw new ArgumentException($"--resume continues the grid and base config saved in {directory}; leave out --grid and --config.");
            }
            sweep = Sweep.Resume(directory, parse.GetValue(parallel));
        }
        else
        {
            var axes = (parse.GetValue(grid) ?? []).Select(GridAxis.Parse).ToList();
            string directory = parse.GetValue(output)
                ?? Path.Combine("runs", "sweep-" + DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
            double factor = parse.GetValue(divergeFactor);
            if (!(factor > 1))
            {
                throw new ArgumentException($"--diverge-factor must be > 1, got {factor}.");
            }
            sweep = Sweep.Create(options.Resolve(parse, new TrainingConfig()), axes, directory, parse.GetValue(parallel) ?? 1, new Divergence(factor));
        }

        int done = sweep.States.Count(s => s.IsDone);
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sweep {sweep.Directory}: {sweep.States.Count} runs ({done} done), {sweep.Parallel} at a time"));
        var states = sweep.Run(point => new SweepConsole(console, point.Name), line => { lock (console) { console.WriteLine(line); } }, cancellation);
        console.WriteLine($"table: {Path.Combine(sweep.Directory, "sweep.md")}; curves: curves-by-step.png, curves-by-time.png");
        if (states.Any(s => !s.IsDone && s.Status != SweepRunState.Failed))
        {
            console.WriteLine($"interrupted. Continue with: sharplm sweep --resume --out {sweep.Directory}");
            return ExitCodes.Interrupted;
        }
        return states.Any(s => s.Status == SweepRunState.Failed) ? ExitCodes.InputError : ExitCodes.Success;
    }
}
