using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Precision;

/// <summary>
/// The part of PyTorch's <c>torch.autocast</c> that SharpLM needs, which TorchSharp 0.107 does not bind: inside
/// <see cref="Enter"/>, every matmul site (<see cref="Model.Linear"/>, attention) casts its float operands to the
/// compute type with <see cref="ForMatmul"/>. The casts are autograd operations, so gradients reach the float32
/// parameters in float32; libtorch's bf16 matmuls accumulate in float32. Statistics (RMSNorm, RoPE, softmax,
/// cross-entropy, gradient norms) stay in float32 because those sites compute in float32 whatever their input.
/// </summary>
/// <remarks>
/// The setting flows with the logical call (an <see cref="AsyncLocal{T}"/>), so tests and requests running in
/// parallel on other threads keep their own; on the CPU the whole forward and backward run on the calling thread.
/// </remarks>
public static class Autocast
{
    static readonly AsyncLocal<ScalarType?> Current = new();

    /// <summary>The dtype matmuls run in here, or null when autocast is off (everything in the tensors' own dtype).</summary>
    public static ScalarType? ComputeType => Current.Value;

    /// <summary>Runs matmuls in <paramref name="precision"/>'s compute type until the returned scope is disposed.</summary>
    /// <exception cref="ArgumentException"><see cref="PrecisionSetting.Auto"/>: resolve it first.</exception>
    public static IDisposable Enter(PrecisionSetting precision) => precision switch
    {
        PrecisionSetting.Fp32 => new Scope(null),
        PrecisionSetting.Bf16 => new Scope(ScalarType.BFloat16),
        _ => throw new ArgumentException($"resolve precision {precision} to fp32 or bf16 (PrecisionChoice.Resolve) before entering it.", nameof(precision)),
    };

    /// <summary>A matmul operand in the compute type: cast when autocast is on and it is a float of another dtype, else itself.</summary>
    public static Tensor ForMatmul(Tensor operand)
    {
        ArgumentNullException.ThrowIfNull(operand);
        return Current.Value is { } type && operand.dtype != type && operand.is_floating_point() ? operand.to(type) : operand;
    }

    /// <summary>
    /// An operand of libtorch's fused attention (<c>scaled_dot_product_attention</c>): in the compute type on
    /// accelerators, but float32 on CPUs, where libtorch 2.10's float32 kernel was the faster one at this model's
    /// head size of 32 (on the project's AMD EPYC with avx512_bf16, the bf16 TinyStories training step took
    /// 1,347–1,379 ms with float32 attention operands and 1,574–1,726 ms with bf16 ones; the kernel alone, forward
    /// and backward of 16 × 16 heads × 256 positions, 97 ms against 121 ms). The float32 kernel also keeps
    /// attention's statistics in float32.
    /// </summary>
    public static Tensor ForFusedAttention(Tensor operand)
    {
        ArgumentNullException.ThrowIfNull(operand);
        return operand.device.type == DeviceType.CPU ? Widen(operand) : ForMatmul(operand);
    }

    /// <summary>Work that must run in float32 (statistics): half-precision inputs are widened, others returned as they are.</summary>
    public static Tensor Widen(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.dtype is ScalarType.BFloat16 or ScalarType.Float16 ? input.to(ScalarType.Float32) : input;
    }

    sealed class Scope : IDisposable
    {
        readonly ScalarType? previous = Current.Value;
        bool disposed;

        public Scope(ScalarType? type) => Current.Value = type;

        public void Dispose()
        {
            if (!disposed)
            {
                Current.Value = previous;
                disposed = true;
            }
        }
    }
}
