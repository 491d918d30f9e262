using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace SharpLM.Training;

/// <summary>
/// Durations as people type them: "10m", "90s", "1h30m", "2.5m"; a bare number is seconds. Config files and
/// flags share the format, and <see cref="Format"/> writes it back, so a saved config.json reads as it was given.
/// </summary>
public static partial class Duration
{
    [GeneratedRegex(@"^(?:(?<h>\d+(?:\.\d+)?)h)?(?:(?<m>\d+(?:\.\d+)?)m)?(?:(?<s>\d+(?:\.\d+)?)s)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Units();

    /// <exception cref="FormatException">Not a duration, or not positive; the message quotes the text.</exception>
    public static TimeSpan Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string trimmed = text.Trim();
        double seconds;
        if (double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out double bare))
        {
            seconds = bare;
        }
        else if (trimmed.Length > 0 && Units().Match(trimmed) is { Success: true } match)
        {
            seconds = 3600 * Part(match, "h") + 60 * Part(match, "m") + Part(match, "s");
        }
        else
        {
            throw new FormatException($"'{text}' is not a duration: write e.g. 10m, 90s or 1h30m.");
        }
        if (!(seconds > 0) || !double.IsFinite(seconds))
        {
            throw new FormatException($"a duration must be positive, got '{text}'.");
        }
        return TimeSpan.FromSeconds(seconds);
    }

    static double Part(Match match, string unit) =>
        match.Groups[unit].Success ? double.Parse(match.Groups[unit].Value, CultureInfo.InvariantCulture) : 0;

    /// <summary>The shortest text <see cref="Parse"/> reads back to the same whole milliseconds: "10m", "1h30m", "12.5s".</summary>
    public static string Format(TimeSpan duration)
    {
        var text = new StringBuilder();
        if (duration.TotalHours >= 1)
        {
            text.Append(CultureInfo.InvariantCulture, $"{(long)duration.TotalHours}h");
        }
        if (duration.Minutes > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{duration.Minutes}m");
        }
        double seconds = duration.Seconds + duration.Milliseconds / 1000.0;
        if (seconds > 0 || text.Length == 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{seconds:0.###}s");
        }
        return text.ToString();
    }

    /// <summary>Reads and writes a <see cref="TimeSpan"/> as a duration string in config files.</summary>
    public sealed class JsonConverter : JsonConverter<TimeSpan>
    {
        public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            try
            {
                return reader.TokenType == JsonTokenType.Number
                    ? Parse(reader.GetDouble().ToString(CultureInfo.InvariantCulture))
                    : Parse(reader.GetString() ?? "");
            }
            catch (FormatException exception)
            {
                throw new JsonException(exception.Message, exception);
            }
        }

        public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options)
        {
            ArgumentNullException.ThrowIfNull(writer);
            writer.WriteStringValue(Format(value));
        }
    }
}
