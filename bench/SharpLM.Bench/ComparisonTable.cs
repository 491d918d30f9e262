using System.Globalization;

namespace SharpLM.Bench;

/// <summary>A markdown table of "ours vs built-in" rows: medians, the speed-up, the target and the equality check.</summary>
public sealed class ComparisonTable
{
    readonly List<string[]> _rows = [];

    /// <param name="minimumSpeedup">Target for built-in ÷ ours (e.g. 4 for "at least 4× faster", 1/1.1 for "no slower than 1.1×"); null for none.</param>
    public void Add(string benchmark, string ours, double oursMilliseconds, string builtIn, double builtInMilliseconds,
        double? minimumSpeedup, string check)
    {
        double speedup = builtInMilliseconds / oursMilliseconds;
        string target = minimumSpeedup is { } minimum
            ? $"≥ {Format(minimum, "0.00")}× ({(speedup >= minimum ? "met" : "MISSED")})"
            : "—";
        _rows.Add([benchmark, ours, Format(oursMilliseconds, "0.00"), builtIn, Format(builtInMilliseconds, "0.00"),
            Format(speedup, "0.00") + "×", target, check]);
    }

    public void Print(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        MarkdownTable.Print(writer,
            ["benchmark", "ours", "ours ms", "built-in", "built-in ms", "built-in ÷ ours", "target", "check"], _rows);
    }

    static string Format(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}

/// <summary>Prints rows as a markdown table with padded columns, readable both raw and rendered.</summary>
public static class MarkdownTable
{
    public static void Print(TextWriter writer, IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(rows);
        var widths = headers.Select((h, c) => rows.Select(r => r[c].Length).Prepend(h.Length).Max()).ToArray();
        string Line(IReadOnlyList<string> cells) => "| " + string.Join(" | ", cells.Select((cell, c) => cell.PadRight(widths[c]))) + " |";
        writer.WriteLine(Line(headers));
        writer.WriteLine("|" + string.Join("|", widths.Select(w => new string('-', w + 2))) + "|");
        foreach (var row in rows)
        {
            writer.WriteLine(Line(row));
        }
    }
}
