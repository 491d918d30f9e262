using SharpLM.Memory;
using SharpLM.Numerics;
using SharpLM.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Distributed;

/// <summary>
/// Averages every gradient across an MPI job, in place in the gradients' own memory: they are kept in one flat
/// buffer (<see cref="GradientBuffer"/>), reduced in calls of at most <see cref="MaxChunk"/> floats. MPI implementations
/// allocate a temporary the size of the message, and glibc maps allocations over 32 MiB afresh every time (one
/// 91 MB call took 0.5–1 s that way), so the native heap is made to keep freed memory, as training does anyway.
/// Tensors off the CPU are reduced through host memory, since Debian's MPI is not CUDA-aware.
/// </summary>
public sealed unsafe class MpiGradientReduction : IGradientReduction, IDisposable
{
    /// <summary>
    /// 4M floats (16 MB) per MPI call. With the TinyStories model's 91 MB in one call, MPI's temporary now and then had
    /// to come from fresh pages even with freed memory kept, as the heap's free space fragmented between steps: 11,082
    /// page faults and 244 ms in one steady-state step of Open MPI, against 20–24 ms in the others. Temporaries of 16 MB
    /// or less always find room: 0 to 85 faults per reduction, in the same run on Open MPI and MPICH.
    /// </summary>
    public const int MaxChunk = 4 << 20;

    readonly MpiProcessGroup group;
    readonly int maxChunk;
    readonly GradientBuffer gradients = new();

    /// <param name="group">The job.</param>
    /// <param name="maxChunk">Floats per MPI call at the most (smaller in tests, to exercise the chunking).</param>
    public MpiGradientReduction(MpiProcessGroup group, int maxChunk = MaxChunk)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChunk, 1);
        this.group = group;
        this.maxChunk = maxChunk;
        NativeHeap.RetainFreedMemory();
    }

    public void Reduce(IReadOnlyList<Parameter> parameters)
    {
        // Every rank must make the same calls: a parameter without a gradient here has none anywhere.
        var flat = gradients.Bind(parameters);
        using var size = group.Size.ToScalar(); // held: see Scalars
        if (RawMemory.IsContiguousCpu(flat, ScalarType.Float32))
        {
            SumInPlace(flat);
            flat.div_(size);
        }
        else
        {
            using var host = flat.cpu();
            SumInPlace(host);
            host.div_(size);
            flat.copy_(host);
        }
    }

    void SumInPlace(Tensor buffer)
    {
        float* start = (float*)RawMemory.Address(buffer);
        long count = buffer.numel();
        for (long offset = 0; offset < count; offset += maxChunk)
        {
            group.SumInPlace(start + offset, (int)Math.Min(maxChunk, count - offset));
        }
    }

    public void Dispose() => gradients.Dispose();
}
