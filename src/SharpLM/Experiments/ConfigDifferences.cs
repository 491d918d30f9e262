using System.Text.Json.Nodes;
using SharpLM.Training;

namespace SharpLM.Experiments;

/// <summary>The settings in which runs differ, as "key=value" labels for tables and legends.</summary>
public static class ConfigDifferences
{
    /// <summary>Keys that differ between runs without making them different experiments.</summary>
    static readonly HashSet<string> Ignored = new(StringComparer.Ordinal)
    {
        "run_directory", "threads", "precision_reason", "total_steps", "tokens_per_step", "cycle_iters",
    };

    /// <summary>
    /// For each config, its values of the keys where it differs from <paramref name="reference"/> or, without
    /// one, of the keys on which the configs do not all agree.
    /// </summary>
    public static IReadOnlyList<string> Describe(IReadOnlyList<TrainingConfig> configs, TrainingConfig? reference = null)
    {
        ArgumentNullException.ThrowIfNull(configs);
        var objects = configs.Select(Flatten).ToList();
        var baseline = reference is null ? null : Flatten(reference);
        var keys = objects.SelectMany(o => o.Keys).Concat(baseline?.Keys ?? Enumerable.Empty<string>()).Distinct().Where(key => !Ignored.Contains(key)).ToList();
        var varying = keys.Where(key => baseline is null
            ? objects.Select(o => o.GetValueOrDefault(key)).Distinct().Count() > 1
            : objects.Any(o => o.GetValueOrDefault(key) != baseline.GetValueOrDefault(key))).ToList();
        return objects.Select(o => string.Join(", ", varying
            .Where(key => baseline is null || o.GetValueOrDefault(key) != baseline.GetValueOrDefault(key))
            .Select(key => $"{key}={o.GetValueOrDefault(key) ?? "null"}"))).ToList();
    }

    static Dictionary<string, string?> Flatten(TrainingConfig config) =>
        JsonNode.Parse(config.ToJson())!.AsObject().ToDictionary(pair => pair.Key, pair => pair.Value is JsonValue value && value.TryGetValue(out string? text) ? text : pair.Value?.ToJsonString());
}
