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
    /// scores[j] ← q·keys[j] for the (count, width) rows of <paramref name="keys"/>; returns the largest. Keys in
    /// blocks of eight: eight independent FMA chains whose sums one transpose-and-add turns into a vector of eight
    /// scores, so no key pays a horizontal sum of its own. A long context's keys and values come from memory (sixteen
    /// decoding rows read ~50 MB of them a step), so the keys and the <paramref name="values"/> <see cref="AheadRows"/>
    /// rows ahead are prefetched here, and <see cref="WeightedSum"/> then finds the values in cache.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float Scores(float* query, float* keys, float* values, float* scores, int count, int width)
    {
        int j = 0;
        var largest = Vector256.Create(float.NegativeInfinity);
        if (Avx.IsSupported && width % 8 == 0)
        {
            for (; j + 8 <= count; j += 8)
            {
                float* k0 = keys + (long)j * width;
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                Vector256<float> a4 = default, a5 = default, a6 = default, a7 = default;
                PrefetchLines(k0 + AheadRows * (long)width, 8 * width);
                PrefetchLines(values + (j + AheadRows) * (long)width, 8 * width);
                for (int i = 0; i < width; i += 8)
                {
                    var q = Vector256.Load(query + i);
                    a0 = Vector256.FusedMultiplyAdd(Vector256.Load(k0 + i), q, a0);
                    a1 = Vector256.FusedMultiplyAdd(Vector256.Load(k0 + width + i), q, a1);
                    a2 = Vector256.FusedMultiplyAdd(Vector256.Load(k0 + 2 * width + i), q, a2);
                    a3 = Vector256.FusedMultiplyAdd(Vector256.Load(k0 + 3 * width + i), q, a3);
                    a4 = Vector256.FusedMultiplyAdd(Vector256.Load(k0 + 4 * width + i), q, a4);
                    a5 = Vector256.FusedMultiplyAdd(Vector256.Load(k0 + 5 * width + i), q, a5);
                    a6 = Vector256.FusedMultiplyAdd(Vector256.Load(k0 + 6 * width + i), q, a6);
                    a7 = Vector256.FusedMultiplyAdd(Vector256.Load(k0 + 7 * width + i), q, a7);
                }
                // Per 128-bit lane, hadd adds neighbours: after two rounds lane L holds half L of a0…a3 (and of a4…a7).
                var low = Avx.HorizontalAdd(Avx.HorizontalAdd(a0, a1), Avx.HorizontalAdd(a2, a3));
                var high = Avx.HorizontalAdd(Avx.HorizontalAdd(a4, a5), Avx.HorizontalAdd(a6, a7));
                var block = Avx.Permute2x128(low, high, 0x20) + Avx.Permute2x128(low, high, 0x31);
                block.Store(scores + j);
                largest = Vector256.Max(largest, block);
            }
        }
        float max = float.NegativeInfinity;
        for (int lane = 0; lane < Vector256<float>.Count; lane++)
        {
            max = MathF.Max(max, largest[lane]);
        }
        for (; j < count; j++)
        {
            scores[j] = Dot(query, keys + (long)j * width, width);
            max = MathF.Max(max, scores[j]);
        }
        return max;
    }

    /// <summary>
    /// output ← scale·Σⱼ weights[j]·rows[j] over (count, width) rows: the attention-weighted values. Columns in blocks
    /// of 32, two rows at a time into two sets of four accumulators (eight FMA chains hide the FMA's latency); then
    /// blocks of 8, then one by one. The rows were prefetched by <see cref="Scores"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void WeightedSum(float* weights, float* rows, int count, int width, float scale, float* output)
    {
        var factor = Vector256.Create(scale);
        int c = 0;
        for (; c + 32 <= width; c += 32)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
            int j = 0;
            for (; j + 2 <= count; j += 2)
            {
                var u = Vector256.Create(weights[j]);
                var v = Vector256.Create(weights[j + 1]);
                float* first = rows + (long)j * width + c;
                float* second = first + width;
                a0 = Vector256.FusedMultiplyAdd(u, Vector256.Load(first), a0);
                a1 = Vector256.FusedMultiplyAdd(u, Vector256.Load(first + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(u, Vector256.Load(first + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(u, Vector256.Load(first + 24), a3);
                b0 = Vector256.FusedMultiplyAdd(v, Vector256.Load(second), b0);
                b1 = Vector256.FusedMultiplyAdd(v, Vector256.Load(second + 8), b1);
                b2 = Vector256.FusedMultiplyAdd(v, Vector256.Load(second + 16), b2);
                b3 = Vector256.FusedMultiplyAdd(v, Vector256.Load(second + 24), b3);
            }
            if (j < count)
            {
                var u = Vector256.Create(weights[j]);
                float* last = rows + (long)j * width + c;
                a0 = Vector256.FusedMultiplyAdd(u, Vector256.Load(last), a0);
                a1 = Vector256.FusedMultiplyAdd(u, Vector256.Load(last + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(u, Vector256.Load(last + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(u, Vector256.Load(last + 24), a3);
            }
            ((a0 + b0) * factor).Store(output + c);
            ((a1 + b1) * factor).Store(output + c + 8);
            ((a2 + b2) * factor).Store(output + c + 16);
            ((a3 + b3) * factor).Store(output + c + 24);
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

    /// <summary>How many cached rows ahead <see cref="Scores"/> and <see cref="WeightedSum"/> prefetch.</summary>
    internal const int AheadRows = 16;

    /// <summary>Asks for every 64-byte line of <paramref name="floats"/> floats from <paramref name="start"/>; a prefetch never faults.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void PrefetchLines(float* start, int floats)
    {
        if (Sse.IsSupported)
        {
            for (int f = 0; f < floats; f += 16)
            {
                Sse.Prefetch0(start + f);
            }
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
    /// y[r] ← x[r] Wᵀ for (rows, in) x and an (out, in) weight, output features [start, end): four weight rows against
    /// four input rows at a time, sixteen independent FMA chains (AVX-512 machines give the JIT 32 vector registers),
    /// so a batch reads each weight row once (it stays in L1 while every input row passes); leftover rows one by one.
    /// Against two input rows at a time, a 16-row product ran 20–25% faster (69–78 → 85–91 GFLOP/s on one core of the
    /// project's EPYC, whose FMA peak is 107).
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
            for (; r + 4 <= rows; r += 4)
            {
                float* x0 = x + (long)r * inFeatures;
                float* x1 = x0 + inFeatures;
                float* x2 = x1 + inFeatures;
                float* x3 = x2 + inFeatures;
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
                Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
                Vector256<float> d0 = default, d1 = default, d2 = default, d3 = default;
                int i = 0;
                for (; i + 8 <= inFeatures; i += 8)
                {
                    Prefetch(ahead, inFeatures, i, r);
                    var p0 = Vector256.Load(w0 + i);
                    var p1 = Vector256.Load(w1 + i);
                    var p2 = Vector256.Load(w2 + i);
                    var p3 = Vector256.Load(w3 + i);
                    var u = Vector256.Load(x0 + i);
                    a0 = Vector256.FusedMultiplyAdd(p0, u, a0);
                    a1 = Vector256.FusedMultiplyAdd(p1, u, a1);
                    a2 = Vector256.FusedMultiplyAdd(p2, u, a2);
                    a3 = Vector256.FusedMultiplyAdd(p3, u, a3);
                    u = Vector256.Load(x1 + i);
                    b0 = Vector256.FusedMultiplyAdd(p0, u, b0);
                    b1 = Vector256.FusedMultiplyAdd(p1, u, b1);
                    b2 = Vector256.FusedMultiplyAdd(p2, u, b2);
                    b3 = Vector256.FusedMultiplyAdd(p3, u, b3);
                    u = Vector256.Load(x2 + i);
                    c0 = Vector256.FusedMultiplyAdd(p0, u, c0);
                    c1 = Vector256.FusedMultiplyAdd(p1, u, c1);
                    c2 = Vector256.FusedMultiplyAdd(p2, u, c2);
                    c3 = Vector256.FusedMultiplyAdd(p3, u, c3);
                    u = Vector256.Load(x3 + i);
                    d0 = Vector256.FusedMultiplyAdd(p0, u, d0);
                    d1 = Vector256.FusedMultiplyAdd(p1, u, d1);
                    d2 = Vector256.FusedMultiplyAdd(p2, u, d2);
                    d3 = Vector256.FusedMultiplyAdd(p3, u, d3);
                }
                Store4(y + (long)r * outFeatures + o, a0, a1, a2, a3, x0, w0, inFeatures, i);
                Store4(y + (long)(r + 1) * outFeatures + o, b0, b1, b2, b3, x1, w0, inFeatures, i);
                Store4(y + (long)(r + 2) * outFeatures + o, c0, c1, c2, c3, x2, w0, inFeatures, i);
                Store4(y + (long)(r + 3) * outFeatures + o, d0, d1, d2, d3, x3, w0, inFeatures, i);
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

    /// <summary>
    /// The four sums of one input row against four consecutive weight rows, with the elements from <paramref name="tail"/>
    /// on. The four accumulators reduce together (two rounds of pairwise adds, then the two halves) instead of one
    /// horizontal sum each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store4(float* output, Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3, float* input, float* w0, int inFeatures, int tail)
    {
        Vector128<float> sums;
        if (Avx.IsSupported)
        {
            var pairs = Avx.HorizontalAdd(Avx.HorizontalAdd(a0, a1), Avx.HorizontalAdd(a2, a3));
            sums = pairs.GetLower() + pairs.GetUpper();
        }
        else
        {
            sums = Vector128.Create(Vector256.Sum(a0), Vector256.Sum(a1), Vector256.Sum(a2), Vector256.Sum(a3));
        }
        if (tail == inFeatures)
        {
            sums.Store(output);
            return;
        }
        float s0 = sums[0], s1 = sums[1], s2 = sums[2], s3 = sums[3];
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
