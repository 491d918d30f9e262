using System.Text.Json.Serialization;

namespace SharpLM.Model;

/// <summary>How attention learns where tokens are (handout §7.3, no_pos_emb).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PositionEncoding>))]
public enum PositionEncoding
{
    /// <summary>Rotary embeddings of queries and keys (§3.5.3).</summary>
    [JsonStringEnumMemberName("rope")]
    Rope,

    /// <summary>No position information at all (NoPE): only the causal mask tells positions apart.</summary>
    [JsonStringEnumMemberName("nope")]
    Nope,
}
