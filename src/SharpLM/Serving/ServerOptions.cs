using SharpLM.Precision;

namespace SharpLM.Serving;

/// <summary>How <see cref="OpenAiServer"/> listens and what it accepts.</summary>
public sealed record ServerOptions
{
    /// <summary>Loopback by default: serving other machines is a decision (with <see cref="ApiKey"/>).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port (see <see cref="OpenAiServer.Address"/>).</summary>
    public int Port { get; init; } = 8000;

    /// <summary>Most completions decoded in one batched step.</summary>
    public int MaxBatch { get; init; } = 16;

    /// <summary>When set, every request needs <c>Authorization: Bearer &lt;key&gt;</c>.</summary>
    public string? ApiKey { get; init; }

    /// <summary>The id clients pass as <c>model</c>.</summary>
    public string ModelName { get; init; } = "sharplm";

    /// <summary>Longest prompt accepted, in tokens; null for the model's context length.</summary>
    public int? MaxPromptTokens { get; init; }

    /// <summary>fp32 or bf16, already resolved.</summary>
    public PrecisionSetting Precision { get; init; } = PrecisionSetting.Fp32;

    /// <summary>How long Ctrl+C waits for in-flight requests before cutting them off.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromMinutes(5);
}
