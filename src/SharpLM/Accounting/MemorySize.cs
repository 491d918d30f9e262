using System.Globalization;
using System.Text.RegularExpressions;

namespace SharpLM.Accounting;

/// <summary>Byte counts written for people: "80GB" is 80·10⁹ bytes, "80GiB" is 80·2³⁰.</summary>
public static partial class MemorySize
{
    static readonly Dictionary<string, long> UnitBytes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["B"] = 1,
        ["KB"] = 1_000,
        ["MB"] = 1_000_000,
        ["GB"] = 1_000_000_000,
        ["TB"] = 1_000_000_000_000,
        ["KiB"] = 1L << 10,
        ["MiB"] = 1L << 20,
        ["GiB"] = 1L << 30,
        ["TiB"] = 1L << 40,
    };

    /// <summary>A number and a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB; any case), e.g. "80GB", "1.5 GiB".</summary>
    /// <returns>Whole bytes, rounded down.</returns>
    /// <exception cref="FormatException">No number, no unit or an unknown one, less than one byte, or more than 2⁶³−1 bytes.</exception>
    public static long Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var match = SizePattern().Match(text);
        if (!match.Success || !UnitBytes.TryGetValue(match.Groups["unit"].Value, out long unit))
        {
            throw new FormatException(
                $"'{text}' is not a memory size; write a number and a unit, such as 80GB, 80GiB or 512MB.");
        }
        decimal bytes;
        try
        {
            bytes = decimal.Floor(decimal.Parse(match.Groups["number"].Value, CultureInfo.InvariantCulture) * unit);
        }
        catch (OverflowException)
        {
            bytes = decimal.MaxValue;
        }
        if (bytes < 1)
        {
            throw new FormatException($"Memory size '{text}' is less than one byte.");
        }
        if (bytes > long.MaxValue)
        {
            throw new FormatException($"Memory size '{text}' is more than 2⁶³−1 bytes.");
        }
        return (long)bytes;
    }

    /// <summary>Decimal gigabytes (or megabytes below 1 GB) with two decimals: "18.03 GB".</summary>
    public static string Format(long bytes) => bytes >= 1_000_000_000
        ? (bytes / 1e9).ToString("N2", CultureInfo.InvariantCulture) + " GB"
        : (bytes / 1e6).ToString("N2", CultureInfo.InvariantCulture) + " MB";

    [GeneratedRegex(@"^\s*(?<number>\d+(\.\d+)?)\s*(?<unit>[A-Za-z]+)\s*$")]
    private static partial Regex SizePattern();
}
