using static TorchSharp.torch;

namespace SharpLM.Model;

/// <summary>
/// A model's weights as decoding wants them: each layer's W_Q, W_K and W_V as one matrix, and its SwiGLU's W1 and W3
/// as one, in the autocast compute type, so that a one-token step makes two products fewer per layer and casts no
/// weight. The state dict keeps CS336's separate q_proj, k_proj, v_proj, w1 and w3; these are copies, taken when the
/// object is made (under the precision of the decoding that uses it), so a generation or a server session builds
/// its own and training never sees them. For a float32 model on the CPU they also hold the <see cref="CpuDecodeStep"/>
/// that runs the cached passes.
/// </summary>
public sealed class DecodingWeights : IDisposable
{
    readonly LayerDecodingWeights[] layers;

    public DecodingWeights(TransformerLM model)
    {
        ArgumentNullException.ThrowIfNull(model);
        layers = [.. model.Layers.Select(layer => new LayerDecodingWeights(
            layer.Attention.FuseProjections().DetachFromDisposeScope(),
            (layer.FeedForward as SwiGlu)?.FuseGateAndUp().DetachFromDisposeScope()))];
        Cpu = CpuDecodeStep.TryCreate(model, this);
    }

    /// <summary>The C# cached pass, for a float32 model on the CPU made without autocast; else null.</summary>
    internal CpuDecodeStep? Cpu { get; }

    public LayerDecodingWeights this[int layer] => layers[layer];

    public void Dispose()
    {
        Cpu?.Dispose();
        foreach (var layer in layers)
        {
            layer.Projection.Dispose();
            layer.GateAndUp?.Dispose();
        }
    }
}

/// <summary>One block's fused weights: (3·dModel, dModel) projections, and (2·dFf, dModel) for a SwiGLU (else null).</summary>
public sealed record LayerDecodingWeights(Tensor Projection, Tensor? GateAndUp);
