using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Bench;

/// <summary>
/// The machine's practical matmul peak in a dtype: what libtorch achieves on a large square matmul. Model FLOP
/// utilisation (MFU) divides a training step's achieved FLOP/s by this figure, measured in the same run.
/// </summary>
public static class MatmulPeak
{
    /// <summary>Square sizes tried by <see cref="PeakGigaflopsPerSecond"/>: large enough to be compute-bound, small enough to be quick.</summary>
    public static IReadOnlyList<int> Sizes { get; } = [1024, 2048, 3072];

    /// <summary>The best median GFLOP/s over <see cref="Sizes"/>: the denominator of MFU.</summary>
    public static double PeakGigaflopsPerSecond(Device device, ScalarType dtype = ScalarType.Float32) =>
        Sizes.Max(size => GigaflopsPerSecond(device, size, dtype));

    /// <summary>Median GFLOP/s of an n×n by n×n matmul (2n³ FLOPs) in <paramref name="dtype"/> on <paramref name="device"/>.</summary>
    public static double GigaflopsPerSecond(Device device, int size = 2048, ScalarType dtype = ScalarType.Float32, int warmup = 2, int iterations = 7)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        using var scope = NewDisposeScope();
        using var generator = new Generator(0, device);
        var a = randn([size, size], generator: generator, device: device).to(dtype); // (n, n)
        var b = randn([size, size], generator: generator, device: device).to(dtype); // (n, n)
        double milliseconds = Timing.MedianMilliseconds(() =>
        {
            using var product = matmul(a, b); // (n, n)
            Synchronize(device);
        }, warmup, iterations);
        return 2.0 * size * size * size / (milliseconds * 1e-3) / 1e9;
    }

    /// <summary>Waits for queued work on accelerators, so wall-clock timing covers it.</summary>
    public static void Synchronize(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.type == DeviceType.CUDA)
        {
            cuda.synchronize(device);
        }
    }
}
