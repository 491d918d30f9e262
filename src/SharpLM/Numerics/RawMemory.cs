using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Numerics;

/// <summary>Raw access to the memory of contiguous CPU tensors, for kernels written in C#.</summary>
internal static unsafe class RawMemory
{
    /// <summary>Whether <paramref name="tensor"/> is a dense, contiguous CPU tensor of <paramref name="dtype"/>.</summary>
    public static bool IsContiguousCpu(Tensor tensor, ScalarType dtype) =>
        tensor.device_type == DeviceType.CPU && tensor.dtype == dtype && !tensor.is_sparse && tensor.is_contiguous();

    /// <summary>
    /// Address of the first element of a contiguous CPU tensor (0 when it is empty). Tensor.bytes, the public
    /// way in, refuses tensors over 2 GB, so it is asked for a one-element view instead of the whole tensor.
    /// </summary>
    public static nint Address(Tensor tensor)
    {
        if (!tensor.is_contiguous() || tensor.device_type != DeviceType.CPU)
        {
            throw new ArgumentException("raw access needs a contiguous CPU tensor.", nameof(tensor));
        }
        if (tensor.numel() == 0)
        {
            return 0;
        }
        using var flat = tensor.view(-1);
        using var first = flat.narrow(0, 0, 1);
        return (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(first.bytes));
    }
}
