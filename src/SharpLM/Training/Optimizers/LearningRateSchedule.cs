namespace SharpLM.Training;

/// <summary>Learning-rate schedules as pure functions of the step (handout §4.4).</summary>
public static class LearningRateSchedule
{
    /// <summary>
    /// Linear warm-up to <paramref name="maxLr"/>, cosine annealing to <paramref name="minLr"/>, then constant.
    /// </summary>
    /// <param name="t">The iteration, from 0.</param>
    /// <param name="warmupIters">Tw: iterations of linear warm-up.</param>
    /// <param name="cosineCycleIters">Tc: the iteration at which the cosine reaches <paramref name="minLr"/>.</param>
    public static double CosineWithWarmup(long t, double maxLr, double minLr, long warmupIters, long cosineCycleIters) =>
        CosineWithWarmup((double)t, maxLr, minLr, warmupIters, cosineCycleIters);

    /// <summary>
    /// The same schedule on a continuous clock: a time-budgeted run (§7.5) passes the training seconds spent as
    /// <paramref name="t"/>, the warm-up time and the budget.
    /// </summary>
    public static double CosineWithWarmup(double t, double maxLr, double minLr, double warmupIters, double cosineCycleIters)
    {
        if (!(t >= 0))
        {
            throw new ArgumentException($"t must be ≥ 0, got {t}.", nameof(t));
        }
        if (maxLr < 0 || double.IsNaN(maxLr))
        {
            throw new ArgumentException($"maxLr must be ≥ 0, got {maxLr}.", nameof(maxLr));
        }
        if (minLr < 0 || minLr > maxLr || double.IsNaN(minLr))
        {
            throw new ArgumentException($"minLr must be in [0, maxLr = {maxLr}], got {minLr}.", nameof(minLr));
        }
        if (!(warmupIters >= 0))
        {
            throw new ArgumentException($"warmupIters must be ≥ 0, got {warmupIters}.", nameof(warmupIters));
        }
        if (warmupIters > cosineCycleIters)
        {
            throw new ArgumentException(
                $"warmupIters ({warmupIters}) must not exceed cosineCycleIters ({cosineCycleIters}).", nameof(warmupIters));
        }

        if (t < warmupIters)
        {
            return (double)t / warmupIters * maxLr;                       // warm-up
        }
        if (t <= cosineCycleIters)
        {
            if (cosineCycleIters == warmupIters)
            {
                return maxLr;                                               // an empty cosine phase peaks and ends at once
            }
            double progress = (double)(t - warmupIters) / (cosineCycleIters - warmupIters);
            return minLr + 0.5 * (1 + Math.Cos(progress * Math.PI)) * (maxLr - minLr); // cosine annealing
        }
        return minLr;                                                       // post-annealing
    }
}
