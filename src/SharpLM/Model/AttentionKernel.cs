using System.Text.Json.Serialization;

namespace SharpLM.Model;

/// <summary>Which implementation computes causal attention; both give the same outputs and gradients.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AttentionKernel>))]
public enum AttentionKernel
{
    /// <summary><see cref="Functional.ScaledDotProductAttention"/> with an explicit causal mask, as the handout writes it.</summary>
    Reference,

    /// <summary>libtorch's fused <c>scaled_dot_product_attention</c> with <c>is_causal</c>; no mask is materialised.</summary>
    Fused,
}
