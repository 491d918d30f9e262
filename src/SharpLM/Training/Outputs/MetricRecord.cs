using System.Text.Json;
using System.Text.Json.Serialization;

namespace SharpLM.Training;

/// <summary>One line of a run's metrics.jsonl.</summary>
public sealed record MetricRecord
{
    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public long Step { get; init; }

    /// <summary>Wall-clock seconds since the run started (continuing across resumes).</summary>
    public double Seconds { get; init; }

    /// <summary>The part of <see cref="Seconds"/> spent in training steps (what a time budget counts); on training records.</summary>
    public double? TrainingSeconds { get; init; }

    public long TokensSeen { get; init; }
    public double? TrainLoss { get; init; }
    public double? ValLoss { get; init; }
    public double? ValPerplexity { get; init; }
    public double LearningRate { get; init; }
    public double? GradientNorm { get; init; }
    public double? TokensPerSecond { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Reads every record of a metrics file; a torn last line (a crash mid-write) is ignored.</summary>
    public static IReadOnlyList<MetricRecord> ReadAll(string path)
    {
        var records = new List<MetricRecord>();
        if (!File.Exists(path))
        {
            return records;
        }
        foreach (string line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            try
            {
                records.Add(JsonSerializer.Deserialize<MetricRecord>(line, JsonOptions)!);
            }
            catch (JsonException)
            {
                break;
            }
        }
        return records;
    }
}
