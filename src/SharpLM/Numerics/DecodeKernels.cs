using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpLM.Numerics;

/// <summary>
/// The float32 SIMD loops of <see cref="SharpLM.Model.CpuDecodeStep"/>, the C# cached decode step: products of token
/// rows with weight rows, RoPE's rotation, attention's softmax and weighted sum, SwiGLU's gate, and the residual add.
/// Each is compiled optimised at once (AggressiveOptimization): a tiered first compile ran them several times slower
/// for the first steps.
/// </summary>
internal static unsafe class DecodeKernels
{
    /// <summary>How far ahead of the four weight rows being read <see cref="Prefetch"/> fetches: two groups of four.</summary>
    const int PrefetchRows = 8;

    /// <summary>Rotates <paramref name="vectors"/> consecutive (dHead) vectors by one position's interleaved tables (eq. 8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Rotate(float* start, int vectors, int dHead, float* cos, float* sin)
    {
        for (int v = 0; v < vectors; v++)
        {
            float* x = start + v * dHead;
            for (int i = 0; i < dHead; i += 2)
            {
                float even = x[i];
                float odd = x[i + 1];
                x[i] = even * cos[i] + odd * sin[i];
                x[i + 1] = odd * cos[i + 1] + even * sin[i + 1];
            }
        }
    }

    /// <summary>scores[j] ← exp((scores[j] − max)·scale) for j &lt; count, the softmax numerators of the scaled scores; returns their sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float Exponentiate(float* scores, int count, float max, float scale)
    {
        var shift = Vector256.Create(max);
        var factor = Vector256.Create(scale);
        var total = Vector256<float>.Zero;
        int j = 0;
        for (; j + 8 <= count; j += 8)
        {
            var e = SimdMath.ExpOfNonPositive((Vector256.Load(scores + j) - shift) * factor);
            e.Store(scores + j);
            total += e;
        }
        float sum = Vector256.Sum(total);
        for (; j < count; j++)
        {
            scores[j] = MathF.Exp((scores[j] - max) * scale);
            sum += scores[j];
        }
        return sum;
    }

    /// <summary>
    /// output ← scale·Σⱼ weights[j]·rows[j] over (count, width) rows: the attention-weighted values. Columns in blocks
    /// of 32 (four accumulators in registers across all rows), then of 8, then one by one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void WeightedSum(float* weights, float* rows, int count, int width, float scale, float* output)
    {
        var factor = Vector256.Create(scale);
        int c = 0;
        for (; c + 32 <= width; c += 32)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int j = 0; j < count; j++)
            {
                var w = Vector256.Create(weights[j]);
                float* row = rows + (long)j * width + c;
                a0 = Vector256.FusedMultiplyAdd(w, Vector256.Load(row), a0);
                a1 = Vector256.FusedMultiplyAdd(w, Vector256.Load(row + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(w, Vector256.Load(row + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(w, Vector256.Load(row + 24), a3);
            }
            (a0 * factor).Store(output + c);
            (a1 * factor).Store(output + c + 8);
            (a2 * factor).Store(output + c + 16);
            (a3 * factor).Store(output + c + 24);
        }
        for (; c + 8 <= width; c += 8)
        {
            var a = Vector256<float>.Zero;
            for (int j = 0; j < count; j++)
            {
                a = Vector256.FusedMultiplyAdd(Vector256.Create(weights[j]), Vector256.Load(rows + (long)j * width + c), a);
            }
            (a * factor).Store(output + c);
        }
        for (; c < width; c++)
        {
            float a = 0;
            for (int j = 0; j < count; j++)
            {
                a += weights[j] * rows[(long)j * width + c];
            }
            output[c] = a * scale;
        }
    }

    /// <summary>SiLU(gate) (eq. 5), times <paramref name="up"/> for SwiGLU (eq. 7), into (count) <paramref name="output"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Silu(float* gate, float* up, float* output, int count)
    {
        int i = 0;
        for (; i + 8 <= count; i += 8)
        {
            var g = Vector256.Load(gate + i);
            // σ(g) from e = exp(−|g|) ≤ 1: 1/(1+e) for g ≥ 0, e/(1+e) below, so exp never overflows.
            var e = SimdMath.ExpOfNonPositive(-Vector256.Abs(g));
            var sigmoid = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(g, Vector256<float>.Zero), Vector256<float>.One, e)
                / (Vector256<float>.One + e);
            var silu = g * sigmoid;
            (up is null ? silu : silu * Vector256.Load(up + i)).Store(output + i);
        }
        for (; i < count; i++)
        {
            float silu = gate[i] / (1 + MathF.Exp(-gate[i]));
            output[i] = up is null ? silu : silu * up[i];
        }
    }

    /// <summary>
    /// y[r] ← x[r] Wᵀ for (rows, in) x and an (out, in) weight, output features [start, end): four weight rows against two input rows at a time, eight
    /// independent FMA chains, so a batch reads each weight row once (it stays in L1 while every input row passes).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MatMulRange(float* x, float* weight, float* y, int rows, int outFeatures, int inFeatures, int start, int end)
    {
        int o = start;
        for (; o + 4 <= end; o += 4)
        {
            float* w0 = weight + (long)o * inFeatures;
            float* w1 = w0 + inFeatures;
            float* w2 = w1 + inFeatures;
            float* w3 = w2 + inFeatures;
            float* ahead = w0 + PrefetchRows * (long)inFeatures;
            int r = 0;
            for (; r + 2 <= rows; r += 2)
            {
                float* first = x + (long)r * inFeatures;
                float* second = first + inFeatures;
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
                int i = 0;
                for (; i + 8 <= inFeatures; i += 8)
                {
                    Prefetch(ahead, inFeatures, i, r);
                    var u = Vector256.Load(first + i);
                    var v = Vector256.Load(second + i);
                    var c0 = Vector256.Load(w0 + i);
                    var c1 = Vector256.Load(w1 + i);
                    var c2 = Vector256.Load(w2 + i);
                    var c3 = Vector256.Load(w3 + i);
                    a0 = Vector256.FusedMultiplyAdd(c0, u, a0);
                    a1 = Vector256.FusedMultiplyAdd(c1, u, a1);
                    a2 = Vector256.FusedMultiplyAdd(c2, u, a2);
                    a3 = Vector256.FusedMultiplyAdd(c3, u, a3);
                    b0 = Vector256.FusedMultiplyAdd(c0, v, b0);
                    b1 = Vector256.FusedMultiplyAdd(c1, v, b1);
                    b2 = Vector256.FusedMultiplyAdd(c2, v, b2);
                    b3 = Vector256.FusedMultiplyAdd(c3, v, b3);
                }
                Store4(y + (long)r * outFeatures + o, a0, a1, a2, a3, first, w0, inFeatures, i);
                Store4(y + (long)(r + 1) * outFeatures + o, b0, b1, b2, b3, second, w0, inFeatures, i);
            }
            for (; r < rows; r++)
            {
                float* input = x + (long)r * inFeatures;
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                int i = 0;
                for (; i + 8 <= inFeatures; i += 8)
                {
                    Prefetch(ahead, inFeatures, i, r);
                    var v = Vector256.Load(input + i);
                    a0 = Vector256.FusedMultiplyAdd(Vector256.Load(w0 + i), v, a0);
                    a1 = Vector256.FusedMultiplyAdd(Vector256.Load(w1 + i), v, a1);
                    a2 = Vector256.FusedMultiplyAdd(Vector256.Load(w2 + i), v, a2);
                    a3 = Vector256.FusedMultiplyAdd(Vector256.Load(w3 + i), v, a3);
                }
                Store4(y + (long)r * outFeatures + o, a0, a1, a2, a3, input, w0, inFeatures, i);
            }
        }
        for (; o < end; o++)
        {
            for (int r = 0; r < rows; r++)
            {
                y[(long)r * outFeatures + o] = Dot(x + (long)r * inFeatures, weight + (long)o * inFeatures, inFeatures);
            }
        }
    }

    /// <summary>
    /// Asks for the cache line at <paramref name="offset"/> of the four weight rows from <paramref name="ahead"/>, once
    /// per line and only on the first input row (later rows find the current ones in L1). The hardware prefetcher alone
    /// kept four row streams from memory at 16 GB/s on the project's EPYC; with this, a one-token pass over the
    /// TinyStories-shape weights ran at 23–26 GB/s. A prefetch past the end of the matrix is harmless: it never faults.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Prefetch(float* ahead, int inFeatures, int offset, int row)
    {
        if (Sse.IsSupported && row == 0 && (offset & 15) == 0)
        {
            Sse.Prefetch0(ahead + offset);
            Sse.Prefetch0(ahead + inFeatures + offset);
            Sse.Prefetch0(ahead + 2 * inFeatures + offset);
            Sse.Prefetch0(ahead + 3 * inFeatures + offset);
        }
    }

    /// <summary>The four sums of one input row against four consecutive weight rows, with the elements from <paramref name="tail"/> on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store4(float* output, Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3, float* input, float* w0, int inFeatures, int tail)
    {
        float s0 = Vector256.Sum(a0), s1 = Vector256.Sum(a1), s2 = Vector256.Sum(a2), s3 = Vector256.Sum(a3);
        for (int i = tail; i < inFeatures; i++)
        {
            s0 += w0[i] * input[i];
            s1 += w0[inFeatures + i] * input[i];
            s2 += w0[2 * inFeatures + i] * input[i];
            s3 += w0[3 * inFeatures + i] * input[i];
        }
        output[0] = s0;
        output[1] = s1;
        output[2] = s2;
        output[3] = s3;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float Dot(float* a, float* b, int count)
    {
        var total = Vector256<float>.Zero;
        int i = 0;
        for (; i + 8 <= count; i += 8)
        {
            total = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), total);
        }
        float sum = Vector256.Sum(total);
        for (; i < count; i++)
        {
            sum += a[i] * b[i];
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Add(float* target, float* addend, int count)
    {
        int i = 0;
        for (; i + 8 <= count; i += 8)
        {
            (Vector256.Load(target + i) + Vector256.Load(addend + i)).Store(target + i);
        }
        for (; i < count; i++)
        {
            target[i] += addend[i];
        }
    }
}
