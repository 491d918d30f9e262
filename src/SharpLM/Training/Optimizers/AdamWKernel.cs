namespace SharpLM.Training;

/// <summary>The two implementations of the <see cref="AdamW"/> update, which give the same numbers to float rounding.</summary>
public enum AdamWKernel
{
    /// <summary>One tensor operation per line of Algorithm 2; any device, dtype and layout.</summary>
    Reference,

    /// <summary>
    /// One SIMD pass over the raw memory of θ, g, m and v, threaded across all parameters, for contiguous
    /// float32 CPU tensors (see <c>FusedAdamW</c>); other parameters take the reference path.
    /// </summary>
    Fused,
}

/// <summary>The kernels by name, for tests (the fused kernel must equal the reference) and benchmarks (which is faster).</summary>
public static class AdamWKernels
{
    public static IReadOnlyDictionary<string, AdamWKernel> ByName { get; } = new Dictionary<string, AdamWKernel>
    {
        ["reference"] = AdamWKernel.Reference,
        ["fused"] = AdamWKernel.Fused,
    };
}
