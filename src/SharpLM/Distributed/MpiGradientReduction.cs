using SharpLM.Numerics;
using SharpLM.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Distributed;

/// <summary>
/// Averages every gradient across an MPI job, in place in the gradients' own memory (no flat buffer, no copies on
/// the CPU). Each call reduces at most <see cref="MaxChunk"/> floats: MPI implementations allocate a temporary the
/// size of the message, and glibc maps allocations over 32 MiB afresh every time, which made one 91 MB call ten
/// times slower than the same data in 4M-float chunks. Tensors off the CPU are reduced through host memory, since
/// Debian's MPI is not CUDA-aware.
/// </summary>
public sealed unsafe class MpiGradientReduction(MpiProcessGroup group) : IGradientReduction
{
    public const int MaxChunk = 4 << 20;

    public void Reduce(IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        foreach (var parameter in parameters)
        {
            if (parameter.grad is not { } gradient)
            {
                // Every rank must make the same calls: a parameter without a gradient here has none anywhere.
                continue;
            }
            if (gradient.dtype != ScalarType.Float32)
            {
                throw new NotSupportedException($"gradients are reduced in float32, got {gradient.dtype}.");
            }
            if (RawMemory.IsContiguousCpu(gradient, ScalarType.Float32))
            {
                SumInPlace(gradient);
                gradient.div_(group.Size);
            }
            else
            {
                using var host = gradient.cpu().contiguous();
                SumInPlace(host);
                host.div_(group.Size);
                gradient.copy_(host);
            }
        }
    }

    void SumInPlace(Tensor gradient)
    {
        float* start = (float*)RawMemory.Address(gradient);
        long count = gradient.numel();
        for (long offset = 0; offset < count; offset += MaxChunk)
        {
            group.SumInPlace(start + offset, (int)Math.Min(MaxChunk, count - offset));
        }
    }
}
