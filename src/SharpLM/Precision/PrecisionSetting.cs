namespace SharpLM.Precision;

/// <summary>What a run asks for: float32 throughout, bf16 mixed precision, or whichever this device runs fast.</summary>
public enum PrecisionSetting
{
    /// <summary>bf16 where the device has fast bf16 matmuls, else fp32 (see <see cref="PrecisionChoice.Resolve"/>).</summary>
    Auto,

    /// <summary>Every operation in float32.</summary>
    Fp32,

    /// <summary>Matmuls in bfloat16 with float32 accumulation; weights, gradients, optimizer state and statistics in float32.</summary>
    Bf16,
}
