namespace SharpLM.Experiments;

/// <summary>Where one run of a sweep stands; the sweep keeps these in sweep.json, so a resumed sweep knows.</summary>
public sealed record SweepRunState(string Name, IReadOnlyDictionary<string, string> Settings, string Status, string? Message = null)
{
    public const string Pending = "pending";
    public const string Completed = "completed";
    public const string Diverged = "diverged";
    public const string Interrupted = "interrupted";
    public const string Failed = "failed";

    /// <summary>Completed and diverged runs are kept by --resume; the others train (on from their checkpoint, if any).</summary>
    public bool IsDone => Status is Completed or Diverged;
}

/// <summary>sweep.json: the grid, each run's state, and the table as sweep.md shows it.</summary>
public sealed record SweepDocument(
    IReadOnlyList<GridAxis> Grid,
    int Parallel,
    double DivergenceFactor,
    IReadOnlyList<SweepRunState> Runs,
    IReadOnlyList<ComparisonRow> Table);
