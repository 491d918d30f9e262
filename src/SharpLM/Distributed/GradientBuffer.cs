using SharpLM.Numerics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Distributed;

/// <summary>
/// Parameters' gradients as views of one flat float32 buffer, so that a few large MPI calls reduce them all (see
/// <see cref="MpiGradientReduction.MaxChunk"/>): over the TinyStories model's 22.7M floats, one call took a half to
/// a third of the time of 41 (one a tensor) while other work shared the cores, and 10–20% more on the idle machine
/// (bench `distributed`); fewer calls are fewer points where a descheduled rank stalls the others. Autograd accumulates into a gradient that exists in place, and
/// zero_grad zeroes it in place, so once bound the gradients stay in the buffer from step to step; the first
/// backward (which makes them) or anything that replaces one is seen by its address, and they are bound again
/// with their values.
/// </summary>
internal sealed class GradientBuffer : IDisposable
{
    Tensor? flat;
    long[] offsets = [];

    /// <summary>The buffer holding the gradients of <paramref name="parameters"/> in order; those without one are left out.</summary>
    public Tensor Bind(IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var withGradient = parameters.Where(p => p.grad is not null).ToList();
        // Each read of Parameter.grad is a new handle of its own, released here.
        var gradients = withGradient.Select(p => p.grad!).ToList();
        try
        {
            if (gradients.Find(g => g.dtype != ScalarType.Float32) is { } other)
            {
                throw new NotSupportedException($"gradients are reduced in float32, got {other.dtype}.");
            }
            if (!IsBound(gradients))
            {
                Rebind(withGradient, gradients);
            }
            return flat!;
        }
        finally
        {
            gradients.ForEach(g => g.Dispose());
        }
    }

    /// <summary>
    /// Whether every gradient already is its slice of the buffer. Only CPU memory can be compared by address; on
    /// other devices the gradients are copied into the buffer every time, which is a copy on the device.
    /// </summary>
    bool IsBound(List<Tensor> gradients)
    {
        if (flat is null || gradients.Count != offsets.Length || flat.device_type != DeviceType.CPU)
        {
            return false;
        }
        nint start = RawMemory.Address(flat);
        long end = 0;
        for (int i = 0; i < gradients.Count; i++)
        {
            var gradient = gradients[i];
            if (gradient.device_type != DeviceType.CPU || !gradient.is_contiguous() || offsets[i] != end
                || (gradient.numel() > 0 && RawMemory.Address(gradient) != start + (nint)(sizeof(float) * offsets[i])))
            {
                return false;
            }
            end += gradient.numel();
        }
        return end == flat.numel();
    }

    void Rebind(List<Parameter> parameters, List<Tensor> gradients)
    {
        long total = gradients.Sum(g => g.numel());
        var device = gradients.Count > 0 ? gradients[0].device : CPU;
        // Owned by this object, not by the dispose scope of the step that made it.
        var buffer = flat is not null && flat.numel() == total && flat.device == device
            ? flat
            : empty(total, ScalarType.Float32, device).DetachFromDisposeScope();
        offsets = new long[gradients.Count];
        long offset = 0;
        for (int i = 0; i < gradients.Count; i++)
        {
            offsets[i] = offset;
            using var slice = buffer.narrow(0, offset, gradients[i].numel()).view(gradients[i].shape);
            slice.copy_(gradients[i]);
            parameters[i].grad = slice;
            offset += gradients[i].numel();
        }
        if (!ReferenceEquals(buffer, flat))
        {
            flat?.Dispose();
            flat = buffer;
        }
    }

    public void Dispose() => flat?.Dispose();
}
