using SharpLM.Training;

namespace SharpLM.Experiments;

/// <summary>What a run directory's config.json and metrics.jsonl say about the run, for tables and overlays.</summary>
public sealed record RunSummary(string Name, string Path, TrainingConfig Config, IReadOnlyList<MetricRecord> Records, bool Diverged)
{
    public double? FinalValidationLoss => Records.LastOrDefault(r => r.ValLoss is not null)?.ValLoss;

    public double? BestValidationLoss => Records.Where(r => r.ValLoss is { } loss && double.IsFinite(loss)).Select(r => r.ValLoss).Min();

    public double? FinalTrainLoss => Records.LastOrDefault(r => r.TrainLoss is not null)?.TrainLoss;

    public long Steps => Records.Count == 0 ? 0 : Records.Max(r => r.Step);

    /// <summary>Mean of the logged training rates: evaluation passes do not count.</summary>
    public double? TokensPerSecond => Records.Where(r => r.TokensPerSecond is not null).Select(r => r.TokensPerSecond!.Value).DefaultIfEmpty(double.NaN).Average() is var mean && double.IsFinite(mean) ? mean : null;

    /// <summary>Wall-clock seconds of the run, across resumes.</summary>
    public double WallSeconds => Records.Count == 0 ? 0 : Records.Max(r => r.Seconds);

    /// <summary>The loss a table sorts by: the last validation loss, else the last training loss.</summary>
    public double SortLoss => FinalValidationLoss ?? FinalTrainLoss ?? double.PositiveInfinity;

    /// <summary>Reads a run directory; <paramref name="diverged"/> overrides the rule (a sweep knows when it stopped a run).</summary>
    /// <exception cref="FileNotFoundException">The directory has no config.json (it is not a run).</exception>
    public static RunSummary Load(string runDirectory, Divergence rule, bool? diverged = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(rule);
        // "runs/a/" names the run "a", as "runs/a" does.
        var run = new RunDirectory(System.IO.Path.TrimEndingDirectorySeparator(runDirectory));
        if (!File.Exists(run.ConfigPath))
        {
            throw new FileNotFoundException($"{runDirectory} is not a run directory: it has no config.json.", run.ConfigPath);
        }
        var records = MetricRecord.ReadAll(run.MetricsPath);
        return new RunSummary(name ?? System.IO.Path.GetFileName(run.Path), run.Path, TrainingConfig.Load(run.ConfigPath), records,
            diverged ?? rule.IsDiverged(records));
    }
}
