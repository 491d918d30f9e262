using SharpLM.Model;

namespace SharpLM.Accounting;

/// <summary>
/// Peak memory of an AdamW training step (handout §4.3, adamwAccounting (a) and (b)) with every tensor in one dtype:
/// parameters, their gradients, AdamW's m and v, and the activations of <see cref="ActivationAccounting"/>. Only the
/// activations grow with the batch, so the peak is a·batch_size + b.
/// </summary>
public sealed record PeakMemory(
    int BytesPerElement,
    long ParameterBytes,
    long GradientBytes,
    long OptimizerStateBytes,
    long ActivationBytesPerSequence)
{
    /// <param name="bytesPerElement">4 for float32 (the handout's assumption), 2 for bfloat16 or float16, 8 for float64.</param>
    /// <exception cref="ArgumentException">The config is invalid or bytesPerElement is not positive.</exception>
    /// <exception cref="OverflowException">A byte count exceeds 64 bits.</exception>
    public static PeakMemory Of(TransformerConfig config, int bytesPerElement = sizeof(float))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerElement);
        long parameterBytes = checked(ParameterAccounting.Total(config) * bytesPerElement);
        return new PeakMemory(
            bytesPerElement,
            ParameterBytes: parameterBytes,
            GradientBytes: parameterBytes,                   // one gradient per parameter
            OptimizerStateBytes: checked(2 * parameterBytes), // m and v, each shaped as θ
            ActivationBytesPerSequence: checked(ActivationAccounting.Total(config) * bytesPerElement));
    }

    /// <summary>a: the bytes each sequence of the batch adds, all of it activations.</summary>
    public long BytesPerSequence => ActivationBytesPerSequence;

    /// <summary>b: the bytes that do not depend on the batch: parameters, gradients and optimizer state.</summary>
    public long FixedBytes => checked(ParameterBytes + GradientBytes + OptimizerStateBytes);

    /// <summary>a·batchSize + b.</summary>
    public long TotalBytes(long batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        return checked(BytesPerSequence * batchSize + FixedBytes);
    }

    /// <summary>⌊(budget − b) / a⌋: the largest batch whose peak fits; 0 when not even one sequence fits.</summary>
    public long LargestBatch(long memoryBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(memoryBytes);
        return memoryBytes <= FixedBytes ? 0 : (memoryBytes - FixedBytes) / BytesPerSequence;
    }
}
