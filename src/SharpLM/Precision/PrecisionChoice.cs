using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Precision;

/// <summary>The precision a run uses (<see cref="PrecisionSetting.Fp32"/> or <see cref="PrecisionSetting.Bf16"/>) and why.</summary>
public sealed record PrecisionChoice(PrecisionSetting Precision, string Reason)
{
    /// <summary>CPU flags of native bf16 dot products (AVX-512 BF16) or matrix tiles (AMX); without them libtorch emulates bf16.</summary>
    public static IReadOnlyList<string> FastBf16CpuFlags { get; } = ["avx512_bf16", "amx_bf16"];

    /// <summary>
    /// Keeps an explicit fp32 or bf16; turns <see cref="PrecisionSetting.Auto"/> into bf16 where the device runs bf16
    /// matmuls fast (a CPU reporting one of <see cref="FastBf16CpuFlags"/>, or a CUDA device) and fp32 elsewhere.
    /// Float16 is never chosen: on CPUs libtorch runs it a hundred times slower than float32.
    /// </summary>
    public static PrecisionChoice Resolve(PrecisionSetting setting, Device device, CpuFeatures? cpu = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        switch (setting)
        {
            case PrecisionSetting.Fp32:
            case PrecisionSetting.Bf16:
                return new PrecisionChoice(setting, "set explicitly");
            case PrecisionSetting.Auto when device.type == DeviceType.CUDA:
                return new PrecisionChoice(PrecisionSetting.Bf16,
                    "auto: a CUDA device; GPUs before compute capability 8.0 (Ampere) emulate bf16, pass --precision fp32 there");
            case PrecisionSetting.Auto when device.type == DeviceType.CPU:
                cpu ??= CpuFeatures.Current;
                string? flag = FastBf16CpuFlags.FirstOrDefault(cpu.Has);
                return flag is not null
                    ? new PrecisionChoice(PrecisionSetting.Bf16, $"auto: the CPU reports {flag}")
                    : new PrecisionChoice(PrecisionSetting.Fp32, $"auto: the CPU reports neither {string.Join(" nor ", FastBf16CpuFlags)}, so bf16 would be emulated");
            case PrecisionSetting.Auto:
                return new PrecisionChoice(PrecisionSetting.Fp32, $"auto: bf16 speed on {device.type} devices is unknown");
            default:
                throw new ArgumentOutOfRangeException(nameof(setting), setting, "unknown precision.");
        }
    }

    /// <summary>As the console header and config.json show it, e.g. "bf16 (auto: the CPU reports avx512_bf16)".</summary>
    public override string ToString() => $"{Precision.ToString().ToLowerInvariant()} ({Reason})";
}
