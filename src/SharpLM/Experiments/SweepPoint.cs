using System.Text.Json;
using System.Text.Json.Nodes;
using SharpLM.Training;

namespace SharpLM.Experiments;

/// <summary>One combination of a sweep's grid: the values it sets, in the order of the axes.</summary>
public sealed record SweepPoint(IReadOnlyList<KeyValuePair<string, string>> Settings)
{
    /// <summary>The run's directory name, e.g. "max_lr=1e-3,batch_size=16".</summary>
    public string Name => string.Join(",", Settings.Select(s => $"{s.Key}={s.Value}")).Replace('/', '_');

    /// <summary>Every combination of the axes' values, the first axis varying slowest.</summary>
    public static IReadOnlyList<SweepPoint> Expand(IReadOnlyList<GridAxis> axes)
    {
        ArgumentNullException.ThrowIfNull(axes);
        var duplicate = axes.GroupBy(axis => axis.ConfigKey).FirstOrDefault(group => group.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"--grid names {duplicate.Key} twice: give all its values in one --grid.");
        }
        IEnumerable<IReadOnlyList<KeyValuePair<string, string>>> points = [[]];
        foreach (var axis in axes)
        {
            points = points.SelectMany(point => axis.Values.Select(value => (IReadOnlyList<KeyValuePair<string, string>>)[.. point, new(axis.Key, value)]));
        }
        return points.Select(settings => new SweepPoint(settings)).ToList();
    }

    /// <summary>The base config with this point's values; an unknown key or a value of the wrong type is an error naming it.</summary>
    public TrainingConfig Apply(TrainingConfig baseConfig)
    {
        ArgumentNullException.ThrowIfNull(baseConfig);
        var json = JsonNode.Parse(baseConfig.ToJson())!.AsObject();
        foreach (var (key, value) in Settings)
        {
            json[new GridAxis(key, [value]).ConfigKey] = GridAxis.ToJson(value);
        }
        try
        {
            return TrainingConfig.FromJson(json.ToJsonString());
        }
        catch (JsonException exception)
        {
            throw new ArgumentException($"--grid {Name}: {exception.Message}", exception);
        }
    }
}
