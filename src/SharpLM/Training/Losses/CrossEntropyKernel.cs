namespace SharpLM.Training;

/// <summary>The two implementations of <see cref="Losses.CrossEntropy(TorchSharp.torch.Tensor, TorchSharp.torch.Tensor)"/>, which give the same numbers to float rounding.</summary>
public enum CrossEntropyKernel
{
    /// <summary>The formula as autograd-tracked tensor operations; autograd derives the backward.</summary>
    Reference,

    /// <summary>
    /// One autograd node with a hand-written backward (softmax − onehot); SIMD loops over rows for contiguous
    /// float32 CPU logits, tensor operations elsewhere. Never materialises probabilities in the forward.
    /// </summary>
    Fused,
}

/// <summary>The kernels by name, for tests (the fused kernel must equal the reference) and benchmarks (which is faster).</summary>
public static class CrossEntropyKernels
{
    public static IReadOnlyDictionary<string, CrossEntropyKernel> ByName { get; } = new Dictionary<string, CrossEntropyKernel>
    {
        ["reference"] = CrossEntropyKernel.Reference,
        ["fused"] = CrossEntropyKernel.Fused,
    };
}
