using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SharpLM.Experiments;

/// <summary>One row of a comparison table, as written to sweep.json / compare.json.</summary>
public sealed record ComparisonRow(
    string Name,
    string Differences,
    string Status,
    double? FinalValLoss,
    double? BestValLoss,
    double? FinalTrainLoss,
    long Steps,
    double? TokensPerSecond,
    double WallSeconds,
    bool Diverged,
    string Path);

/// <summary>
/// The table and overlaid curves of a set of runs, sorted by final loss (diverged runs last): `sweep` and
/// `compare` write the same files, NAME.md, NAME.json, curves-by-step.png and curves-by-time.png.
/// </summary>
public static class ComparisonReport
{
    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Rows in table order: diverged runs after the others, then by final loss.</summary>
    public static IReadOnlyList<ComparisonRow> Rows(IReadOnlyList<RunSummary> runs, IReadOnlyList<string> differences, IReadOnlyList<string>? statuses = null)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(differences);
        return runs.Select((run, i) => (run, row: new ComparisonRow(run.Name, differences[i], statuses?[i] ?? (run.Diverged ? "diverged" : "finished"),
                run.FinalValidationLoss, run.BestValidationLoss, run.FinalTrainLoss, run.Steps, run.TokensPerSecond, run.WallSeconds, run.Diverged, run.Path)))
            .OrderBy(entry => entry.run.Diverged)
            .ThenBy(entry => entry.run.SortLoss)
            .Select(entry => entry.row)
            .ToList();
    }

    /// <summary>Writes NAME.md (with <paramref name="preamble"/> above the table), NAME.json (<paramref name="document"/>) and the curves.</summary>
    public static void Write(string directory, string name, string preamble, IReadOnlyList<RunSummary> runs, IReadOnlyList<ComparisonRow> rows, object document)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(rows);
        Directory.CreateDirectory(directory);
        IO.AtomicFile.WriteAllText(Path.Combine(directory, name + ".md"), preamble + Table(rows));
        IO.AtomicFile.WriteAllText(Path.Combine(directory, name + ".json"), JsonSerializer.Serialize(document, JsonOptions));
        var labels = runs.Select(run => rows.First(row => row.Path == run.Path)).Select(row => row.Differences.Length > 0 ? row.Differences : row.Name).ToList();
        if (runs.Any(run => run.Records.Any(r => r.TrainLoss is not null || r.ValLoss is not null)))
        {
            ComparisonCurves.Save(runs, labels, Path.Combine(directory, "curves-by-step.png"), Path.Combine(directory, "curves-by-time.png"));
        }
    }

    /// <summary>The markdown table.</summary>
    public static string Table(IReadOnlyList<ComparisonRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var text = new StringBuilder();
        text.AppendLine("| run | differs | final val loss | best val loss | final train loss | steps | tokens/s | wall time | status |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---|");
        foreach (var row in rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {row.Name} | {(row.Differences.Length > 0 ? row.Differences : "(base)")} | {Loss(row.FinalValLoss)} | {Loss(row.BestValLoss)} | {Loss(row.FinalTrainLoss)} | {row.Steps:N0} | {(row.TokensPerSecond is { } rate ? rate.ToString("N0", CultureInfo.InvariantCulture) : "–")} | {Wall(row.WallSeconds)} | {row.Status} |");
        }
        return text.ToString();
    }

    static string Loss(double? loss) => loss is { } value ? value.ToString("F4", CultureInfo.InvariantCulture) : "–";

    static string Wall(double seconds) => TimeSpan.FromSeconds(seconds).ToString(seconds >= 3600 ? @"h\:mm\:ss" : @"m\:ss", CultureInfo.InvariantCulture);
}
