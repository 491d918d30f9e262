using System.Text.RegularExpressions;

namespace SharpLM.Export;

/// <summary>llama.cpp's tensor names for the state-dict keys of the CS336 model.</summary>
public static partial class LlamaTensorNames
{
    static readonly Dictionary<string, string> Layer = new(StringComparer.Ordinal)
    {
        ["ln1.weight"] = "attn_norm.weight",
        ["attn.q_proj.weight"] = "attn_q.weight",
        ["attn.k_proj.weight"] = "attn_k.weight",
        ["attn.v_proj.weight"] = "attn_v.weight",
        ["attn.output_proj.weight"] = "attn_output.weight",
        ["ln2.weight"] = "ffn_norm.weight",
        ["ffn.w1.weight"] = "ffn_gate.weight",
        ["ffn.w2.weight"] = "ffn_down.weight",
        ["ffn.w3.weight"] = "ffn_up.weight",
    };

    static readonly Dictionary<string, string> Model = new(StringComparer.Ordinal)
    {
        ["token_embeddings.weight"] = "token_embd.weight",
        ["ln_final.weight"] = "output_norm.weight",
        ["lm_head.weight"] = "output.weight",
    };

    /// <exception cref="ArgumentException">A key the CS336 model does not have.</exception>
    public static string Of(string stateDictKey)
    {
        ArgumentNullException.ThrowIfNull(stateDictKey);
        if (Model.TryGetValue(stateDictKey, out string? name))
        {
            return name;
        }
        var match = LayerKey().Match(stateDictKey);
        if (match.Success && Layer.TryGetValue(match.Groups[2].Value, out string? layerName))
        {
            return $"blk.{match.Groups[1].Value}.{layerName}";
        }
        throw new ArgumentException($"no llama.cpp tensor for the state-dict key {stateDictKey}.", nameof(stateDictKey));
    }

    [GeneratedRegex(@"^layers\.(\d+)\.(.+)$")]
    private static partial Regex LayerKey();
}
