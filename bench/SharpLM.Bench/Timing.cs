using System.Diagnostics;

namespace SharpLM.Bench;

/// <summary>
/// Wall-clock timing for a machine shared with other work. Contenders run round-robin after a warm-up, so
/// background load falls on all of them alike; each gets the median of its runs (the typical time) and the
/// best (noise only ever adds time, so the best is closest to what the code does on an idle machine).
/// </summary>
public static class Timing
{
    /// <summary>Times each action <paramref name="iterations"/> times, round-robin, after <paramref name="warmup"/> untimed rounds.</summary>
    public static Measurement[] Interleaved(int warmup, int iterations, params Action[] actions)
    {
        ArgumentNullException.ThrowIfNull(actions);
        return Interleaved(warmup, iterations, actions.Select(a => new Contender(a)).ToArray());
    }

    /// <summary>As above, with an untimed setup before every run (e.g. restoring inputs an in-place run changed).</summary>
    public static Measurement[] Interleaved(int warmup, int iterations, params Contender[] contenders)
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
        return samples.Select(Measurement.Of).ToArray();
    }

    /// <summary>Median milliseconds of one action.</summary>
    public static double MedianMilliseconds(Action action, int warmup, int iterations) =>
        Interleaved(warmup, iterations, action)[0].MedianMilliseconds;
}

/// <summary>A timed action and an optional untimed setup run before it.</summary>
public sealed record Contender(Action Run, Action? Setup = null);

/// <summary>The median and the best of repeated wall-clock runs.</summary>
public sealed record Measurement(double MedianMilliseconds, double BestMilliseconds)
{
    public static Measurement Of(IReadOnlyCollection<double> milliseconds)
    {
        ArgumentNullException.ThrowIfNull(milliseconds);
        return new(Median(milliseconds), milliseconds.Min());
    }

    /// <summary>The middle value (the mean of the two middle ones for an even count).</summary>
    public static double Median(IReadOnlyCollection<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = values.Order().ToArray();
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
