using System.Text.Json.Serialization;

namespace SharpLM.Model;

/// <summary>Where a Transformer block applies its two RMSNorms (handout §7.3, pre_norm_ablation and layer_norm_ablation).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<NormPlacement>))]
public enum NormPlacement
{
    /// <summary>z = x + MHA(RMSNorm(x)), y = z + FFN(RMSNorm(z)) (eq. 15): the handout's model.</summary>
    [JsonStringEnumMemberName("pre")]
    Pre,

    /// <summary>z = RMSNorm(x + MHA(x)), y = RMSNorm(z + FFN(z)): the original Transformer's placement.</summary>
    [JsonStringEnumMemberName("post")]
    Post,

    /// <summary>z = x + MHA(x), y = z + FFN(z): no RMSNorm in the blocks (the final norm is a switch of its own).</summary>
    [JsonStringEnumMemberName("none")]
    None,
}
