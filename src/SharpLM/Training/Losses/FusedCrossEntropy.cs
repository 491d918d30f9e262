using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using SharpLM.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>
/// Per-token cross-entropy ℓᵢ = log Σⱼ exp(oᵢⱼ − mᵢ) − (oᵢ[xᵢ] − mᵢ), mᵢ = maxⱼ oᵢⱼ (eq. 17), as one autograd
/// node with its own backward ∂ℓᵢ/∂oᵢ = softmax(oᵢ) − onehot(xᵢ). The forward keeps only mᵢ and the log-sum
/// (two floats per row) beside the logits it already has; the backward writes the gradient, the only
/// logits-sized tensor of the whole computation. The built-in (log_softmax then nll_loss) instead stores
/// log-probabilities in the forward and makes two logits-sized tensors in the backward.
/// </summary>
/// <remarks>
/// On contiguous float32 CPU logits both passes are C# SIMD loops over rows, threaded across cores: the
/// forward reads the logits once, the backward reads them once and writes the gradient once. Elsewhere the
/// same formulas run as tensor operations (one logits-sized temporary in the forward).
/// </remarks>
internal sealed class FusedCrossEntropy : autograd.SingleTensorFunction<FusedCrossEntropy>
{
    /// <summary>Logits per work item of the CPU loops: enough rows that scheduling is free, few enough to balance.</summary>
    const int ElementsPerWorkItem = 1 << 18;

    public override string Name => "SharpLM.FusedCrossEntropy";

    /// <summary>ℓ (tokens) for <paramref name="logits"/> (tokens, vocab) of float type and int64 <paramref name="targets"/> (tokens) within range.</summary>
    public static Tensor Apply(Tensor logits, Tensor targets) => apply(logits, targets);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(vars);
        var logits = (Tensor)vars[0];   // (N, V)
        var targets = (Tensor)vars[1];  // (N)
        Tensor losses, shift, logSum;   // (N) each
        if (UsesCpuKernel(logits, targets))
        {
            losses = empty_like(targets, dtype: ScalarType.Float32);
            shift = empty_like(losses);
            logSum = empty_like(losses);
            ForwardCpu(logits, targets, losses, shift, logSum);
        }
        else
        {
            shift = logits.amax([1]);                                                      // (N)
            using (var shifted = logits - shift.unsqueeze(1))                              // (N, V), the one temporary
            {
                logSum = shifted.exp_().sum(1).log_();                                     // (N)
            }
            using var targetScores = logits.gather(1, targets.unsqueeze(1)).squeeze(1);    // (N)
            losses = logSum - (targetScores - shift);                                      // (N)
        }
        ctx.save_for_backward([logits, targets, shift, logSum]);
        return losses;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(grad_output);
        var saved = ctx.get_saved_variables();
        try
        {
            var (logits, targets, shift, logSum) = (saved[0], saved[1], saved[2], saved[3]);
            Tensor gradient;                                                               // (N, V)
            if (UsesCpuKernel(logits, targets))
            {
                using var scale = grad_output.to_type(ScalarType.Float32).contiguous();    // (N); mean's backward gives a stride-0 view
                gradient = empty_like(logits);
                BackwardCpu(logits, targets, shift, logSum, scale, gradient);
            }
            else
            {
                // softmax(o) − onehot(x) = exp(o − m − log Σ), then the target column minus one, all scaled by ∂L/∂ℓᵢ.
                using var scale = grad_output.unsqueeze(1);                                // (N, 1)
                gradient = logits.sub(shift.unsqueeze(1)).sub_(logSum.unsqueeze(1)).exp_().mul_(scale);
                using var negativeScale = scale.neg().to_type(gradient.dtype);             // (N, 1)
                gradient.scatter_add_(1, targets.unsqueeze(1), negativeScale);
            }
            return [gradient, null!];
        }
        finally
        {
            saved.ForEach(t => t.Dispose());
        }
    }

    static bool UsesCpuKernel(Tensor logits, Tensor targets) =>
        Vector256.IsHardwareAccelerated
        && RawMemory.IsContiguousCpu(logits, ScalarType.Float32)
        && RawMemory.IsContiguousCpu(targets, ScalarType.Int64);

    static unsafe void ForwardCpu(Tensor logits, Tensor targets, Tensor losses, Tensor shift, Tensor logSum)
    {
        var (rows, columns) = ((int)logits.shape[0], (int)logits.shape[1]);
        float* o = (float*)RawMemory.Address(logits), l = (float*)RawMemory.Address(losses);
        float* m = (float*)RawMemory.Address(shift), s = (float*)RawMemory.Address(logSum);
        long* x = (long*)RawMemory.Address(targets);
        ForEachRowBlock(rows, columns, (first, end) =>
        {
            for (int i = first; i < end; i++)
            {
                var row = new ReadOnlySpan<float>(o + (long)i * columns, columns);
                float maximum = Max(row);
                float logSumExp = MathF.Log(SumExpShifted(row, maximum));
                m[i] = maximum;
                s[i] = logSumExp;
                l[i] = logSumExp - (row[(int)x[i]] - maximum);
            }
        });
    }

    static unsafe void BackwardCpu(Tensor logits, Tensor targets, Tensor shift, Tensor logSum, Tensor scale, Tensor gradient)
    {
        var (rows, columns) = ((int)logits.shape[0], (int)logits.shape[1]);
        float* o = (float*)RawMemory.Address(logits), d = (float*)RawMemory.Address(gradient);
        float* m = (float*)RawMemory.Address(shift), s = (float*)RawMemory.Address(logSum), g = (float*)RawMemory.Address(scale);
        long* x = (long*)RawMemory.Address(targets);
        ForEachRowBlock(rows, columns, (first, end) =>
        {
            for (int i = first; i < end; i++)
            {
                var row = new ReadOnlySpan<float>(o + (long)i * columns, columns);
                var output = new Span<float>(d + (long)i * columns, columns);
                SoftmaxTimes(row, m[i], s[i], g[i], output);
                output[(int)x[i]] -= g[i];
            }
        });
    }

    static void ForEachRowBlock(int rows, int columns, Action<int, int> body)
    {
        int rowsPerBlock = Math.Max(1, ElementsPerWorkItem / Math.Max(1, columns));
        int blocks = (rows + rowsPerBlock - 1) / rowsPerBlock;
        if (blocks <= 1)
        {
            body(0, rows);
            return;
        }
        Parallel.For(0, blocks, b => body(b * rowsPerBlock, Math.Min(rows, (b + 1) * rowsPerBlock)));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float Max(ReadOnlySpan<float> values)
    {
        var vectors = MemoryMarshal.Cast<float, Vector256<float>>(values);
        float maximum = float.NegativeInfinity;
        if (vectors.Length > 0)
        {
            var best = vectors[0];
            for (int k = 1; k < vectors.Length; k++)
            {
                best = Vector256.Max(best, vectors[k]);
            }
            for (int lane = 0; lane < Vector256<float>.Count; lane++)
            {
                maximum = MathF.Max(maximum, best.GetElement(lane));
            }
        }
        for (int i = vectors.Length * Vector256<float>.Count; i < values.Length; i++)
        {
            maximum = MathF.Max(maximum, values[i]);
        }
        return maximum;
    }

    /// <summary>Σ exp(vᵢ − shift), with shift ≥ every vᵢ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float SumExpShifted(ReadOnlySpan<float> values, float shift)
    {
        var vectors = MemoryMarshal.Cast<float, Vector256<float>>(values);
        var shiftVector = Vector256.Create(shift);
        var sum = Vector256<float>.Zero;
        for (int k = 0; k < vectors.Length; k++)
        {
            sum += SimdMath.ExpOfNonPositive(vectors[k] - shiftVector);
        }
        float total = Vector256.Sum(sum);
        for (int i = vectors.Length * Vector256<float>.Count; i < values.Length; i++)
        {
            total += SimdMath.ExpOfNonPositive(values[i] - shift);
        }
        return total;
    }

    /// <summary>outputᵢ = exp(vᵢ − shift − logSum)·scale: the softmax of the row times the loss gradient.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void SoftmaxTimes(ReadOnlySpan<float> values, float shift, float logSum, float scale, Span<float> output)
    {
        var vectors = MemoryMarshal.Cast<float, Vector256<float>>(values);
        var outputVectors = MemoryMarshal.Cast<float, Vector256<float>>(output);
        var (shiftVector, logSumVector, scaleVector) = (Vector256.Create(shift), Vector256.Create(logSum), Vector256.Create(scale));
        for (int k = 0; k < vectors.Length; k++)
        {
            outputVectors[k] = SimdMath.ExpOfNonPositive(vectors[k] - shiftVector - logSumVector) * scaleVector;
        }
        for (int i = vectors.Length * Vector256<float>.Count; i < values.Length; i++)
        {
            output[i] = SimdMath.ExpOfNonPositive(values[i] - shift - logSum) * scale;
        }
    }
}
