using static TorchSharp.torch;

namespace SharpLM.Export;

/// <summary>The floating-point type weights are written in.</summary>
public enum ExportDType
{
    F32,
    F16,
    BF16,
}

public static class ExportDTypes
{
    public static ScalarType ScalarType(this ExportDType dtype) => dtype switch
    {
        ExportDType.F32 => TorchSharp.torch.ScalarType.Float32,
        ExportDType.F16 => TorchSharp.torch.ScalarType.Float16,
        ExportDType.BF16 => TorchSharp.torch.ScalarType.BFloat16,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown export dtype."),
    };

    /// <summary>Parses "f32", "f16" or "bf16" (any case).</summary>
    /// <exception cref="ArgumentException">Another name.</exception>
    public static ExportDType Parse(string name) => name.ToLowerInvariant() switch
    {
        "f32" or "float32" => ExportDType.F32,
        "f16" or "float16" => ExportDType.F16,
        "bf16" or "bfloat16" => ExportDType.BF16,
        _ => throw new ArgumentException($"unknown dtype \"{name}\": expected f32, f16 or bf16."),
    };
}
