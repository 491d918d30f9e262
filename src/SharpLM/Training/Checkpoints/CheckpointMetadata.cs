namespace SharpLM.Training;

/// <summary>
/// Everything in a checkpoint besides the tensors: enough to rebuild the model (its configuration as JSON)
/// and to continue a run exactly (random-generator states by name, e.g. the data sampler's).
/// </summary>
public sealed record CheckpointMetadata
{
    public long Iteration { get; init; }

    /// <summary>The model's configuration as JSON (e.g. a serialised TransformerConfig), if the caller gave one.</summary>
    public string? ModelConfig { get; init; }

    /// <summary>The run's resolved configuration as JSON, if the caller gave one.</summary>
    public string? RunConfig { get; init; }

    /// <summary>States of random generators by name (torch.Generator.get_state bytes).</summary>
    public IReadOnlyDictionary<string, byte[]> RandomStates { get; init; } = new Dictionary<string, byte[]>();

    /// <summary>Counters a run needs to continue (e.g. tokens seen), by name.</summary>
    public IReadOnlyDictionary<string, double> Counters { get; init; } = new Dictionary<string, double>();
}
