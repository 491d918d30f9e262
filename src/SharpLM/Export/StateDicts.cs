using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Export;

/// <summary>A model's weights under the CS336 state-dict keys, as the PyTorch and safetensors exports write them.</summary>
public static class StateDicts
{
    /// <summary>
    /// Copies of every parameter in <paramref name="dtype"/>, contiguous on the CPU, keyed as in the CS336 reference
    /// (token_embeddings.weight, layers.0.attn.q_proj.weight, …, lm_head.weight). The caller disposes them.
    /// </summary>
    public static Dictionary<string, Tensor> Export(TransformerLM model, ExportDType dtype)
    {
        ArgumentNullException.ThrowIfNull(model);
        var exported = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using var noGrad = no_grad();
        foreach (var (key, parameter) in model.state_dict())
        {
            exported.Add(key, parameter.detach().to(dtype.ScalarType()).cpu().contiguous().clone().DetachFromDisposeScope());
        }
        return exported;
    }

    public static void Dispose(Dictionary<string, Tensor> stateDict)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        foreach (var tensor in stateDict.Values)
        {
            tensor.Dispose();
        }
    }
}
