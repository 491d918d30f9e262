using TorchSharp;

namespace SharpLM.Numerics;

/// <summary>Scalars that outlive the native calls they are passed to.</summary>
/// <remarks>
/// TorchSharp 0.107.0 hands a <see cref="Scalar"/> to libtorch by its raw handle and does not keep the managed object
/// alive during the call. A temporary one (an implicit conversion such as <c>x * 0.5</c>, or one TorchSharp makes
/// itself, such as the alpha = 1 behind <c>a + b</c>) is garbage once its handle is read, and a collection started by
/// another thread can run its finalizer, which frees the native scalar while libtorch still reads it: the call fails
/// with "Expected false to be true" from <c>c10::Scalar::toFloat</c>, or silently uses another number. So SharpLM only
/// passes scalars that are held: <see cref="One"/>, or one made by <c>using var s = value.ToScalar();</c> before the
/// call, which keeps it alive until it is disposed after the call. A test scans the compiled code for any call that
/// would make a temporary one (tests/SharpLM.Tests/Numerics/TemporaryScalarTests.cs).
/// </remarks>
public static class Scalars
{
    /// <summary>0, alive for the whole process.</summary>
    public static Scalar Zero { get; } = 0.ToScalar();

    /// <summary>1, alive for the whole process: the alpha of a plain <c>add(other, One)</c>.</summary>
    public static Scalar One { get; } = 1.ToScalar();

    /// <summary>start, start + step, … below end: <c>arange</c> with its bounds held through the call.</summary>
    public static torch.Tensor Range(long start, long end, torch.ScalarType dtype, torch.Device? device = null, long step = 1)
    {
        using var first = start.ToScalar();
        using var stop = end.ToScalar();
        using var stride = step.ToScalar();
        return torch.arange(first, stop, stride, dtype, device);
    }
}
