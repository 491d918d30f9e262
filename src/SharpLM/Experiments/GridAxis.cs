using System.Text.Json;
using System.Text.Json.Nodes;
using SharpLM.Training;

namespace SharpLM.Experiments;

/// <summary>
/// One `--grid key=v1,v2,…` of a sweep: a <see cref="TrainingConfig"/> key (snake_case, as in config.json, or a
/// train flag's short name such as max_lr) and the values to try.
/// </summary>
public sealed record GridAxis(string Key, IReadOnlyList<string> Values)
{
    /// <summary>Train flags whose names are not their config keys.</summary>
    static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        ["max_lr"] = "max_learning_rate",
        ["min_lr"] = "min_learning_rate",
        ["grad_clip"] = "gradient_clip",
    };

    /// <summary>The key as config.json spells it.</summary>
    public string ConfigKey => Aliases.GetValueOrDefault(Key, Key);

    /// <exception cref="FormatException">Not key=v1,v2,…; the message quotes the text.</exception>
    public static GridAxis Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int equals = text.IndexOf('=', StringComparison.Ordinal);
        string key = equals > 0 ? text[..equals].Trim().Replace('-', '_') : "";
        var values = equals > 0
            ? text[(equals + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : [];
        if (key.Length == 0 || values.Length == 0)
        {
            throw new FormatException($"--grid '{text}' should read key=value1,value2,… (e.g. max_lr=1e-3,3e-3).");
        }
        if (values.Distinct(StringComparer.Ordinal).Count() != values.Length)
        {
            throw new FormatException($"--grid '{text}' repeats a value.");
        }
        return new GridAxis(key, values);
    }

    /// <summary>The value as JSON: a number, true/false or null as written, anything else a string.</summary>
    internal static JsonNode? ToJson(string value)
    {
        try
        {
            return JsonNode.Parse(value) is JsonValue parsed && parsed.GetValueKind() is not JsonValueKind.String ? parsed : JsonValue.Create(value);
        }
        catch (JsonException)
        {
            return JsonValue.Create(value);
        }
    }
}
