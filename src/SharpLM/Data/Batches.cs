using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Data;

/// <summary>Language-modelling batches from a token dataset (§5.1).</summary>
public static class Batches
{
    /// <summary>
    /// Samples <paramref name="batchSize"/> start indices uniformly from [0, n − m) and returns inputs x and
    /// targets y = x shifted by one, both (batchSize, contextLength) int64 on <paramref name="device"/>.
    /// </summary>
    public static (Tensor Inputs, Tensor Targets) GetBatch(TokenDataset dataset, int batchSize, int contextLength, Device device, Generator? generator)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ValidateShape(dataset, batchSize, contextLength);
        long[] starts;
        using (var drawn = randint(dataset.Count - contextLength, [batchSize], generator: generator, dtype: ScalarType.Int64))
        {
            starts = drawn.data<long>().ToArray();
        }
        return Build(dataset, starts, contextLength, device);
    }

    /// <summary>
    /// Covers the dataset in consecutive non-overlapping windows of <paramref name="contextLength"/> (the last
    /// batch may be smaller), so an evaluation sees every target once and gives the same number every time.
    /// </summary>
    /// <param name="maxBatches">Stop after this many batches (null: the whole dataset).</param>
    public static IEnumerable<(Tensor Inputs, Tensor Targets)> Sequential(TokenDataset dataset, int batchSize, int contextLength, Device device, int? maxBatches = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ValidateShape(dataset, batchSize, contextLength);
        if (maxBatches is < 1)
        {
            throw new ArgumentException($"maxBatches must be ≥ 1, got {maxBatches}.", nameof(maxBatches));
        }
        return Iterate();

        IEnumerable<(Tensor, Tensor)> Iterate()
        {
            long windows = (dataset.Count - 1) / contextLength;
            long batches = (windows + batchSize - 1) / batchSize;
            if (maxBatches is { } cap)
            {
                batches = Math.Min(batches, cap);
            }
            for (long b = 0; b < batches; b++)
            {
                long first = b * batchSize;
                long count = Math.Min(batchSize, windows - first);
                var starts = new long[count];
                for (int i = 0; i < count; i++)
                {
                    starts[i] = (first + i) * contextLength;
                }
                yield return Build(dataset, starts, contextLength, device);
            }
        }
    }

    /// <summary>Number of batches <see cref="Sequential"/> yields.</summary>
    public static long SequentialBatchCount(TokenDataset dataset, int batchSize, int contextLength, int? maxBatches = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        long batches = ((dataset.Count - 1) / contextLength + batchSize - 1) / batchSize;
        return maxBatches is { } cap ? Math.Min(batches, cap) : batches;
    }

    static void ValidateShape(TokenDataset dataset, int batchSize, int contextLength)
    {
        if (batchSize < 1)
        {
            throw new ArgumentException($"batchSize must be ≥ 1, got {batchSize}.", nameof(batchSize));
        }
        if (contextLength < 1)
        {
            throw new ArgumentException($"contextLength must be ≥ 1, got {contextLength}.", nameof(contextLength));
        }
        if (dataset.Count <= contextLength)
        {
            throw new ArgumentException(
                $"context length {contextLength} needs at least {contextLength + 1} tokens, but {dataset.Path} has {dataset.Count}.", nameof(contextLength));
        }
    }

    static (Tensor, Tensor) Build(TokenDataset dataset, long[] starts, int contextLength, Device device)
    {
        int rows = starts.Length;
        var window = new long[contextLength + 1];
        var inputs = new long[rows * contextLength];
        var targets = new long[rows * contextLength];
        for (int row = 0; row < rows; row++)
        {
            dataset.Read(starts[row], window);
            window.AsSpan(0, contextLength).CopyTo(inputs.AsSpan(row * contextLength));
            window.AsSpan(1, contextLength).CopyTo(targets.AsSpan(row * contextLength));
        }
        var x = tensor(inputs, [rows, contextLength], dtype: ScalarType.Int64);   // (batch, context)
        var y = tensor(targets, [rows, contextLength], dtype: ScalarType.Int64);  // (batch, context)
        return (MoveTo(x, device), MoveTo(y, device));
    }

    static Tensor MoveTo(Tensor host, Device device)
    {
        if (device.type == DeviceType.CPU)
        {
            return host;
        }
        using (host)
        {
            return host.to(device);
        }
    }
}
