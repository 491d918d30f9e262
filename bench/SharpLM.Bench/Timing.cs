using System.Diagnostics;

namespace SharpLM.Bench;

/// <summary>
/// Wall-clock medians. On a machine shared with other work, noise only ever adds time, so the median of many
/// runs after a warm-up is steadier than the mean; running the contenders interleaved exposes both to the
/// same background load.
/// </summary>
public static class Timing
{
    /// <summary>Median milliseconds of each action, run round-robin <paramref name="iterations"/> times after <paramref name="warmup"/> rounds.</summary>
    public static double[] InterleavedMedianMilliseconds(int warmup, int iterations, params Action[] actions)
    {
        ArgumentNullException.ThrowIfNull(actions);
        return InterleavedMedianMilliseconds(warmup, iterations, actions.Select(a => new Contender(a)).ToArray());
    }

    /// <summary>As above, with an untimed setup before every timed run (e.g. restoring inputs an in-place run changed).</summary>
    public static double[] InterleavedMedianMilliseconds(int warmup, int iterations, params Contender[] contenders)
    {
        ArgumentNullException.ThrowIfNull(contenders);
        ArgumentOutOfRangeException.ThrowIfNegative(warmup);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        for (int round = 0; round < warmup; round++)
        {
            foreach (var contender in contenders)
            {
                contender.Setup?.Invoke();
                contender.Run();
            }
        }
        var samples = contenders.Select(_ => new double[iterations]).ToArray();
        for (int round = 0; round < iterations; round++)
        {
            for (int i = 0; i < contenders.Length; i++)
            {
                contenders[i].Setup?.Invoke();
                long start = Stopwatch.GetTimestamp();
                contenders[i].Run();
                samples[i][round] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }
        return samples.Select(Median).ToArray();
    }

    public static double MedianMilliseconds(Action action, int warmup, int iterations) =>
        InterleavedMedianMilliseconds(warmup, iterations, action)[0];

    static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}

/// <summary>A timed action and an optional untimed setup run before it.</summary>
public sealed record Contender(Action Run, Action? Setup = null);
