using System.Text.Json.Serialization;

namespace SharpLM.Model;

/// <summary>The position-wise feed-forward network of every block (handout §7.3, swiglu_ablation).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FeedForwardKind>))]
public enum FeedForwardKind
{
    /// <summary>W2(SiLU(W1 x) ⊙ W3 x) (eq. 7): <see cref="SwiGlu"/>.</summary>
    [JsonStringEnumMemberName("swiglu")]
    Swiglu,

    /// <summary>W2 SiLU(W1 x) (eq. 25), no gate: <see cref="SiluFeedForward"/>.</summary>
    [JsonStringEnumMemberName("silu")]
    Silu,
}
