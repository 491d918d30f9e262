using System.Globalization;

namespace SharpLM.Bench;

/// <summary>
/// A markdown table of "ours vs built-in" rows: times as median / best, the speed-up built-in ÷ ours of each,
/// the target (judged on medians) and the equality check.
/// </summary>
public sealed class ComparisonTable
{
    readonly List<string[]> _rows = [];

    /// <param name="minimumSpeedup">Target for built-in ÷ ours (e.g. 4 for "at least 4× faster", 1/1.1 for "no slower than 1.1×"); null for none.</param>
    public void Add(string benchmark, string ours, Measurement oursTime, string builtIn, Measurement builtInTime,
        double? minimumSpeedup, string check)
    {
        ArgumentNullException.ThrowIfNull(oursTime);
        ArgumentNullException.ThrowIfNull(builtInTime);
        double speedup = builtInTime.MedianMilliseconds / oursTime.MedianMilliseconds;
        double bestSpeedup = builtInTime.BestMilliseconds / oursTime.BestMilliseconds;
        string target = minimumSpeedup is { } minimum
            ? $"≥ {Format(minimum)}× ({(speedup >= minimum ? "met" : "MISSED")})"
            : "—";
        _rows.Add([benchmark, ours, Times(oursTime), builtIn, Times(builtInTime),
            $"{Format(speedup)}× / {Format(bestSpeedup)}×", target, check]);
    }

    public void Print(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        MarkdownTable.Print(writer,
            ["benchmark", "ours", "ours ms (median / best)", "built-in", "built-in ms (median / best)",
             "built-in ÷ ours (median / best)", "target (median)", "check"], _rows);
    }

    static string Times(Measurement time) => $"{Format(time.MedianMilliseconds)} / {Format(time.BestMilliseconds)}";

    static string Format(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);
}

/// <summary>Prints rows as a markdown table with padded columns, readable both raw and rendered.</summary>
public static class MarkdownTable
{
    public static void Print(TextWriter writer, IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(rows);
        // A "|" inside a cell (as in |Δθ|) would end the cell.
        headers = headers.Select(Escape).ToList();
        rows = rows.Select(r => (IReadOnlyList<string>)r.Select(Escape).ToList()).ToList();
        var widths = headers.Select((h, c) => rows.Select(r => r[c].Length).Prepend(h.Length).Max()).ToArray();
        string Line(IReadOnlyList<string> cells) => "| " + string.Join(" | ", cells.Select((cell, c) => cell.PadRight(widths[c]))) + " |";
        writer.WriteLine(Line(headers));
        writer.WriteLine("|" + string.Join("|", widths.Select(w => new string('-', w + 2))) + "|");
        foreach (var row in rows)
        {
            writer.WriteLine(Line(row));
        }
    }

    static string Escape(string cell) => cell.Replace("|", "\\|", StringComparison.Ordinal);
}
