using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using SharpLM.Training;

namespace SharpLM.Experiments;

/// <summary>
/// A grid of training runs (§7.2): every combination of the <see cref="GridAxis"/> values applied to a base
/// config is a run directory of its own under the sweep directory. Runs train one after another, or
/// <see cref="Parallel"/> at a time with the cores split between them; a run that diverges is stopped and marked,
/// and the sweep goes on. After every run sweep.json, sweep.md and the overlaid curves are rewritten, so a
/// killed sweep can resume: finished runs are kept, an interrupted one resumes from its checkpoint.
/// </summary>
public sealed class Sweep
{
    public const string StateFileName = "sweep.json";
    public const string BaseFileName = "base.json";
    const string ReportName = "sweep";

    readonly TrainingConfig baseConfig;
    readonly IReadOnlyList<SweepPoint> points;
    readonly SweepRunState[] states;
    readonly object gate = new();

    Sweep(string directory, TrainingConfig baseConfig, IReadOnlyList<GridAxis> grid, int parallel, Divergence rule, SweepRunState[] states)
    {
        Directory = Path.GetFullPath(directory);
        this.baseConfig = baseConfig;
        Grid = grid;
        Parallel = parallel;
        Rule = rule;
        points = SweepPoint.Expand(grid);
        this.states = states;
        // Every combination is checked before any of them trains: a bad value fails the sweep at once.
        foreach (var point in points)
        {
            ConfigFor(point).Validate();
        }
    }

    public string Directory { get; }
    public IReadOnlyList<GridAxis> Grid { get; }
    public int Parallel { get; }
    public Divergence Rule { get; }
    public IReadOnlyList<SweepRunState> States => states;

    /// <summary>A new sweep in <paramref name="directory"/>, which must not hold one already.</summary>
    public static Sweep Create(TrainingConfig baseConfig, IReadOnlyList<GridAxis> grid, string directory, int parallel = 1, Divergence? rule = null)
    {
        ArgumentNullException.ThrowIfNull(baseConfig);
        ArgumentNullException.ThrowIfNull(grid);
        ArgumentNullException.ThrowIfNull(directory);
        if (grid.Count == 0)
        {
            throw new ArgumentException("a sweep needs at least one --grid key=value1,value2,….");
        }
        if (parallel < 1)
        {
            throw new ArgumentException($"--parallel must be ≥ 1, got {parallel}.");
        }
        if (File.Exists(Path.Combine(directory, StateFileName)))
        {
            throw new IOException($"{directory} already holds a sweep; pass --resume to continue it or choose another --out.");
        }
        var points = SweepPoint.Expand(grid);
        var states = points.Select(p => new SweepRunState(p.Name, p.Settings.ToDictionary(s => s.Key, s => s.Value), SweepRunState.Pending)).ToArray();
        var sweep = new Sweep(directory, baseConfig with { RunDirectory = null }, grid, parallel, rule ?? new Divergence(), states);
        System.IO.Directory.CreateDirectory(sweep.Directory);
        IO.AtomicFile.WriteAllText(Path.Combine(sweep.Directory, BaseFileName), sweep.baseConfig.ToJson());
        sweep.WriteReport();
        return sweep;
    }

    /// <summary>The sweep saved in <paramref name="directory"/>, with its grid and base config; <paramref name="parallel"/> may change.</summary>
    public static Sweep Resume(string directory, int? parallel = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        string statePath = Path.Combine(directory, StateFileName);
        if (!File.Exists(statePath))
        {
            throw new FileNotFoundException($"nothing to resume: {directory} has no {StateFileName}.", statePath);
        }
        var document = JsonSerializer.Deserialize<SweepDocument>(File.ReadAllText(statePath), ComparisonReport.JsonOptions)
            ?? throw new InvalidDataException($"{statePath} is empty.");
        var baseConfig = TrainingConfig.Load(Path.Combine(directory, BaseFileName));
        return new Sweep(directory, baseConfig, document.Grid, parallel ?? document.Parallel, new Divergence(document.DivergenceFactor), [.. document.Runs]);
    }

    /// <summary>The config of one combination: its own run directory, and its share of the cores when runs go in parallel.</summary>
    public TrainingConfig ConfigFor(SweepPoint point)
    {
        ArgumentNullException.ThrowIfNull(point);
        var config = point.Apply(baseConfig) with { RunDirectory = Path.Combine(Directory, point.Name) };
        return Parallel > 1 && config.Threads == 0 ? config with { Threads = Math.Max(1, Environment.ProcessorCount / Parallel) } : config;
    }

    /// <summary>
    /// Trains every run not done yet. Cancelling stops the runs in flight at a checkpoint (they resume later) and
    /// starts no more. <paramref name="observerFor"/> shows a run's progress; <paramref name="report"/> gets a line per run.
    /// </summary>
    public IReadOnlyList<SweepRunState> Run(Func<SweepPoint, ITrainingObserver> observerFor, Action<string> report, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(observerFor);
        ArgumentNullException.ThrowIfNull(report);
        var queue = new ConcurrentQueue<int>(Enumerable.Range(0, points.Count).Where(i => !states[i].IsDone));
        void Work()
        {
            while (!cancellation.IsCancellationRequested && queue.TryDequeue(out int index))
            {
                report(string.Create(CultureInfo.InvariantCulture, $"run {index + 1}/{points.Count} {points[index].Name}: starting"));
                var state = RunOne(points[index], observerFor(points[index]), cancellation);
                lock (gate)
                {
                    states[index] = state;
                    WriteReport();
                }
                report(string.Create(CultureInfo.InvariantCulture, $"run {index + 1}/{points.Count} {points[index].Name}: {state.Status}{(state.Message is null ? "" : " (" + state.Message + ")")}"));
            }
        }
        if (Parallel == 1)
        {
            Work();
        }
        else
        {
            // Dedicated threads: libtorch sets a thread's CPU-thread count when that thread first computes.
            var workers = Enumerable.Range(0, Math.Min(Parallel, queue.Count)).Select(_ => new Thread(Work)).ToList();
            workers.ForEach(worker => worker.Start());
            workers.ForEach(worker => worker.Join());
        }
        return states;
    }

    SweepRunState RunOne(SweepPoint point, ITrainingObserver observer, CancellationToken cancellation)
    {
        var config = ConfigFor(point);
        var run = new RunDirectory(config.RunDirectory!);
        var settings = point.Settings.ToDictionary(s => s.Key, s => s.Value);
        try
        {
            bool resume = run.LatestCheckpoint() is not null;
            if (!resume && System.IO.Directory.Exists(run.Path))
            {
                System.IO.Directory.Delete(run.Path, recursive: true); // started, but killed before its first checkpoint
            }
            var earlier = resume ? MetricRecord.ReadAll(run.MetricsPath) : [];
            if (Rule.IsDiverged(earlier))
            {
                return new SweepRunState(point.Name, settings, SweepRunState.Diverged, "its loss had broken the divergence rule before the interruption");
            }
            double? startLoss = earlier.Select(r => r.ValLoss ?? r.TrainLoss).FirstOrDefault(loss => loss is not null);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            var watch = new DivergenceWatch(Rule, observer, stop, startLoss);
            using var session = TrainingSession.Create(config, resume, cancellation: stop.Token);
            var outcome = session.Train(watch, stop.Token);
            return watch.Breach is { } breach
                ? new SweepRunState(point.Name, settings, SweepRunState.Diverged, string.Create(CultureInfo.InvariantCulture,
                    $"loss {breach:F3} by step {outcome.Step}, above {Rule.Factor}× its start; stopped"))
                : outcome.Reason switch
                {
                    TrainingStopReason.Completed => new SweepRunState(point.Name, settings, SweepRunState.Completed),
                    TrainingStopReason.NonFiniteLoss => new SweepRunState(point.Name, settings, SweepRunState.Diverged, outcome.Message),
                    _ => new SweepRunState(point.Name, settings, SweepRunState.Interrupted, $"stopped at step {outcome.Step}; --resume continues it"),
                };
        }
#pragma warning disable CA1031 // one run's failure (bad data, out of memory) is recorded and the sweep goes on
        catch (Exception exception)
#pragma warning restore CA1031
        {
            return new SweepRunState(point.Name, settings, SweepRunState.Failed, exception.Message.ReplaceLineEndings(" "));
        }
    }

    /// <summary>Rewrites sweep.json, sweep.md and the curves from the runs that have started.</summary>
    void WriteReport()
    {
        var started = Enumerable.Range(0, points.Count).Where(i => File.Exists(new RunDirectory(ConfigFor(points[i]).RunDirectory!).ConfigPath)).ToList();
        // A run the sweep stopped is diverged whatever its records show (it may stop one before its loss is logged); the others by the rule.
        var runs = started.Select(i => RunSummary.Load(ConfigFor(points[i]).RunDirectory!, Rule,
            states[i].Status == SweepRunState.Diverged ? true : null, points[i].Name)).ToList();
        var rows = ComparisonReport.Rows(runs, started.Select(i => points[i].Name).ToList(), started.Select(i => states[i].Status).ToList());
        string preamble = string.Create(CultureInfo.InvariantCulture,
            $"# Sweep {Path.GetFileName(Directory)}\n\nBase config: `{BaseFileName}`; grid: {string.Join("; ", Grid.Select(a => $"`{a.Key}` = {string.Join(", ", a.Values)}"))}. " +
            $"{states.Count(s => s.IsDone)} of {states.Length} runs done; sorted by final validation loss, diverged runs last " +
            $"(diverged: a non-finite loss, or a loss above {Rule.Factor}× the first one logged, the untrained model's). Curves: `curves-by-step.png`, `curves-by-time.png`.\n\n");
        ComparisonReport.Write(Directory, ReportName, preamble, runs, rows, new SweepDocument(Grid, Parallel, Rule.Factor, states, rows));
    }
}
