using System.Text.Json;
using System.Text.Json.Serialization;

namespace SharpLM.Model;

/// <summary>
/// The architecture of a <see cref="TransformerLM"/>. Serialises to JSON with the handout's hyperparameter names
/// (vocab_size, context_length, ...); an unknown key is an error. The architecture options of §7.3 and §7.5 (norm,
/// final_norm, position, ffn, tie_embeddings) may be missing, as they are from configurations saved before they
/// existed, and then take the handout's model: pre-norm with a final norm, RoPE, SwiGLU, an untied LM head.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record TransformerConfig(
    [property: JsonPropertyName("vocab_size")] int VocabSize,
    [property: JsonPropertyName("context_length")] int ContextLength,
    [property: JsonPropertyName("d_model")] int DModel,
    [property: JsonPropertyName("num_layers")] int NumLayers,
    [property: JsonPropertyName("num_heads")] int NumHeads,
    [property: JsonPropertyName("d_ff")] int DFf,
    [property: JsonPropertyName("rope_theta")] double RopeTheta,
    [property: JsonPropertyName("attention_kernel")] AttentionKernel AttentionKernel = AttentionKernel.Fused,
    [property: JsonPropertyName("norm")] NormPlacement Norm = NormPlacement.Pre,
    [property: JsonPropertyName("final_norm")] bool FinalNorm = true,
    [property: JsonPropertyName("position")] PositionEncoding Position = PositionEncoding.Rope,
    [property: JsonPropertyName("ffn")] FeedForwardKind Ffn = FeedForwardKind.Swiglu,
    [property: JsonPropertyName("tie_embeddings")] bool TieEmbeddings = false)
{
    static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>The handout's TinyStories model (§7): about 17M non-embedding parameters.</summary>
    public static TransformerConfig TinyStories { get; } = new(
        VocabSize: 10_000,
        ContextLength: 256,
        DModel: 512,
        NumLayers: 4,
        NumHeads: 16,
        DFf: 1344, // ≈ 8/3·512, a multiple of 64
        RopeTheta: 10_000);

    /// <summary>d_k = d_v = d_model / num_heads; derived, so not serialised.</summary>
    [JsonIgnore]
    public int HeadSize => DModel / NumHeads;

    /// <summary>The d_ff a model of this width gets when none is given: SwiGLU's 8/3·d_model, or 4·d_model for SiLU (§7.3).</summary>
    public static int DefaultFeedForwardSize(FeedForwardKind ffn, int dModel) => checked((int)(ffn switch
    {
        FeedForwardKind.Swiglu => SwiGlu.DefaultFeedForwardSize(dModel),
        FeedForwardKind.Silu => SiluFeedForward.DefaultFeedForwardSize(dModel),
        _ => throw new ArgumentException($"Unknown ffn {ffn}."),
    }));

    /// <summary>The architecture options in words, e.g. "pre-norm, final norm, RoPE, SwiGLU, untied head".</summary>
    public string DescribeOptions() => string.Join(", ",
        Norm switch { NormPlacement.Pre => "pre-norm", NormPlacement.Post => "post-norm", _ => "no block norms" },
        FinalNorm ? "final norm" : "no final norm",
        Position == PositionEncoding.Rope ? "RoPE" : "NoPE",
        Ffn == FeedForwardKind.Swiglu ? "SwiGLU" : "SiLU FFN",
        TieEmbeddings ? "tied embeddings" : "untied head");

    /// <exception cref="ArgumentException">A size is not positive, or the heads do not split dModel into even sizes.</exception>
    public void Validate()
    {
        RequirePositive(VocabSize, "vocab_size");
        RequirePositive(ContextLength, "context_length");
        RequirePositive(DModel, "d_model");
        RequirePositive(NumLayers, "num_layers");
        RequirePositive(NumHeads, "num_heads");
        RequirePositive(DFf, "d_ff");
        if (!(RopeTheta > 0) || double.IsInfinity(RopeTheta))
        {
            throw new ArgumentException($"rope_theta must be positive and finite, got {RopeTheta}.");
        }
        if (DModel % NumHeads != 0)
        {
            throw new ArgumentException($"d_model {DModel} is not divisible by num_heads {NumHeads}.");
        }
        if (Position == PositionEncoding.Rope && HeadSize % 2 != 0)
        {
            throw new ArgumentException(
                $"RoPE needs an even head size, but d_model/num_heads = {DModel}/{NumHeads} = {HeadSize}.");
        }
        if (!Enum.IsDefined(AttentionKernel))
        {
            throw new ArgumentException($"Unknown attention_kernel {AttentionKernel}.");
        }
        if (!Enum.IsDefined(Norm))
        {
            throw new ArgumentException($"Unknown norm {Norm}.");
        }
        if (!Enum.IsDefined(Position))
        {
            throw new ArgumentException($"Unknown position {Position}.");
        }
        if (!Enum.IsDefined(Ffn))
        {
            throw new ArgumentException($"Unknown ffn {Ffn}.");
        }
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <exception cref="JsonException">Malformed JSON, an unknown key or a missing one.</exception>
    public static TransformerConfig FromJson(string json) =>
        JsonSerializer.Deserialize<TransformerConfig>(json, JsonOptions)
            ?? throw new JsonException("A transformer config must be a JSON object, got null.");

    static void RequirePositive(int value, string name)
    {
        if (value <= 0)
        {
            throw new ArgumentException($"{name} must be positive, got {value}.");
        }
    }
}
