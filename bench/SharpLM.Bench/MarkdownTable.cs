namespace SharpLM.Bench;

/// <summary>Collects rows and prints them as a GitHub markdown table with aligned columns.</summary>
public sealed class MarkdownTable(params string[] columns)
{
    readonly List<string[]> _rows = [];

    public void Add(params string[] cells)
    {
        if (cells.Length != columns.Length)
        {
            throw new ArgumentException($"expected {columns.Length} cells, found {cells.Length}", nameof(cells));
        }
        _rows.Add(cells);
    }

    public void Print(TextWriter output)
    {
        int[] widths = [.. columns.Select((column, i) => _rows.Select(row => row[i].Length).Append(column.Length).Max())];
        output.WriteLine("| " + string.Join(" | ", columns.Select((column, i) => column.PadRight(widths[i]))) + " |");
        output.WriteLine("|" + string.Join("|", widths.Select(width => new string('-', width + 2))) + "|");
        foreach (string[] row in _rows)
        {
            output.WriteLine("| " + string.Join(" | ", row.Select((cell, i) => cell.PadRight(widths[i]))) + " |");
        }
        output.WriteLine();
    }
}
