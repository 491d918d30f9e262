using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SharpLM.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>
/// The AdamW update of <see cref="AdamW"/> as one pass over raw float32 memory: each element of θ, g, m and v
/// is read once and θ, m, v written once, 28 bytes per parameter where the tensor-op path's eight ops move 80
/// and allocate √v. The step is memory-bound, so bytes moved is its cost. SIMD across the lanes of
/// <see cref="Vector{T}"/>, threads across fixed-size chunks of all tensors together, so a step over many
/// small tensors still balances across cores.
/// </summary>
/// <remarks>
/// Only for contiguous float32 tensors in CPU memory (<see cref="Supports"/>); everything else takes the
/// tensor-op path. The arithmetic is float32 in the order libtorch's CPU kernels evaluate the reference
/// path's ops (each scalar rounded to float32 first; fused multiply-add where libtorch's vector kernels use
/// one), so the two paths agree to float rounding.
/// </remarks>
internal static unsafe class FusedAdamW
{
    /// <summary>
    /// Elements per work item: ~1 MB of traffic, so scheduling is free next to the memory time, yet the
    /// tinystories parameter set (22.7M) splits into ~700 items that balance across cores under background load.
    /// </summary>
    internal const int ChunkLength = 1 << 15;

    /// <summary>The scalars of one update, already rounded to float32 as libtorch rounds a double scalar for a float tensor.</summary>
    internal readonly record struct Coefficients(float Beta1, float OneMinusBeta1, float Beta2, float OneMinusBeta2,
        float NegativeStepSize, float Eps, float DecayFactor)
    {
        /// <param name="stepSize">αₜ = α·√(1−β₂ᵗ)/(1−β₁ᵗ), computed in double as the reference path does.</param>
        public static Coefficients Create(double beta1, double beta2, double stepSize, double eps, double lr, double weightDecay) =>
            new((float)beta1, (float)(1 - beta1), (float)beta2, (float)(1 - beta2), (float)-stepSize, (float)eps,
                (float)(1 - lr * weightDecay));
    }

    /// <summary>One parameter's memory: θ, g, m, v of <paramref name="Length"/> floats each.</summary>
    internal readonly record struct Segment(nint Parameter, nint Gradient, nint M, nint V, long Length, Coefficients Coefficients);

    /// <summary>Whether the four tensors can be updated in place through their raw memory.</summary>
    public static bool Supports(Tensor parameter, Tensor gradient, Tensor m, Tensor v)
    {
        long count = parameter.numel();
        foreach (var tensor in (ReadOnlySpan<Tensor>)[parameter, gradient, m, v])
        {
            if (!RawMemory.IsContiguousCpu(tensor, ScalarType.Float32) || tensor.numel() != count)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Describes a parameter accepted by <see cref="Supports"/>; the tensors must outlive the update.</summary>
    public static Segment Describe(Tensor parameter, Tensor gradient, Tensor m, Tensor v, Coefficients coefficients) =>
        new(RawMemory.Address(parameter), RawMemory.Address(gradient), RawMemory.Address(m), RawMemory.Address(v),
            parameter.numel(), coefficients);

    /// <summary>Applies every segment's update, in parallel over chunks.</summary>
    public static void Update(IReadOnlyList<Segment> segments)
    {
        var chunks = new List<(int Segment, long Start, int Length)>();
        for (int s = 0; s < segments.Count; s++)
        {
            for (long start = 0; start < segments[s].Length; start += ChunkLength)
            {
                chunks.Add((s, start, (int)Math.Min(ChunkLength, segments[s].Length - start)));
            }
        }
        if (chunks.Count == 1)
        {
            UpdateChunk(segments[chunks[0].Segment], chunks[0].Start, chunks[0].Length);
            return;
        }
        Parallel.For(0, chunks.Count, i => UpdateChunk(segments[chunks[i].Segment], chunks[i].Start, chunks[i].Length));
    }

    static void UpdateChunk(in Segment segment, long start, int length) =>
        Update(
            new Span<float>((float*)segment.Parameter + start, length),
            new ReadOnlySpan<float>((float*)segment.Gradient + start, length),
            new Span<float>((float*)segment.M + start, length),
            new Span<float>((float*)segment.V + start, length),
            segment.Coefficients);

    /// <summary>θ, m, v ← AdamW(θ, g, m, v) element-wise; the spans have equal length and do not overlap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Update(Span<float> parameter, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v, in Coefficients c)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var beta1 = new Vector<float>(c.Beta1);
            var oneMinusBeta1 = new Vector<float>(c.OneMinusBeta1);
            var beta2 = new Vector<float>(c.Beta2);
            var oneMinusBeta2 = new Vector<float>(c.OneMinusBeta2);
            var negativeStepSize = new Vector<float>(c.NegativeStepSize);
            var eps = new Vector<float>(c.Eps);
            var decayFactor = new Vector<float>(c.DecayFactor);
            var parameterVectors = MemoryMarshal.Cast<float, Vector<float>>(parameter);
            var gradientVectors = MemoryMarshal.Cast<float, Vector<float>>(gradient);
            var mVectors = MemoryMarshal.Cast<float, Vector<float>>(m);
            var vVectors = MemoryMarshal.Cast<float, Vector<float>>(v);
            for (int k = 0; k < parameterVectors.Length; k++)
            {
                var g = gradientVectors[k];
                var mk = Vector.FusedMultiplyAdd(g, oneMinusBeta1, mVectors[k] * beta1);      // m ← β₁m + (1−β₁)g
                var vk = Vector.FusedMultiplyAdd(oneMinusBeta2 * g, g, vVectors[k] * beta2);  // v ← β₂v + (1−β₂)g²
                var denominator = Vector.SquareRoot(vk) + eps;                                // √v + ε
                var theta = parameterVectors[k] + negativeStepSize * mk / denominator;        // θ ← θ − αₜ·m/(√v+ε)
                parameterVectors[k] = theta * decayFactor;                                    // θ ← θ − αλθ
                mVectors[k] = mk;
                vVectors[k] = vk;
            }
            i = parameterVectors.Length * Vector<float>.Count;
        }
        for (; i < parameter.Length; i++)
        {
            float g = gradient[i];
            float mi = MathF.FusedMultiplyAdd(g, c.OneMinusBeta1, m[i] * c.Beta1);
            float vi = MathF.FusedMultiplyAdd(c.OneMinusBeta2 * g, g, v[i] * c.Beta2);
            float theta = parameter[i] + c.NegativeStepSize * mi / (MathF.Sqrt(vi) + c.Eps);
            parameter[i] = theta * c.DecayFactor;
            m[i] = mi;
            v[i] = vi;
        }
    }
}
