using SharpLM.Training;

namespace SharpLM.Tests.Training;

public class LearningRateTuningExperimentTests
{
    /// <summary>Loss ratio after <paramref name="steps"/> updates: each scales w by 1 − α/(50√(t+1)), the loss by its square.</summary>
    static double ClosedFormRatio(double learningRate, int steps) =>
        Enumerable.Range(0, steps).Aggregate(1.0, (ratio, t) => ratio * Math.Pow(1 - learningRate / (50 * Math.Sqrt(t + 1)), 2));

    [Fact]
    public void Run_WithHandoutRates_GivesClosedFormLossRatios()
    {
        var trials = LearningRateTuningExperiment.Run([1e1, 1e2, 1e3]);

        Assert.All(trials, t => Assert.Equal(10, t.Losses.Count));
        Assert.Equal(ClosedFormRatio(1e1, 9), trials[0].Ratio, 1e-5);
        Assert.Equal(0.1344, trials[0].Ratio, 1e-4);
        Assert.True(trials[1].Losses[4] < 1e-12 * trials[1].Losses[0], $"lr 1e2 should hit ~0 at step 4, got {trials[1].Losses[4]}");
        Assert.Equal(1.0, trials[2].Ratio / ClosedFormRatio(1e3, 9), 1e-4);
        Assert.InRange(trials[2].Ratio, 9.2e16, 9.4e16);
        Assert.Equal(["decays", "converges", "diverges"], trials.Select(t => t.Verdict));
    }

    [Fact]
    public void Run_WithDifferentSeeds_GivesTheSameRatios()
    {
        var first = LearningRateTuningExperiment.Run([1e1], seed: 1)[0];
        var second = LearningRateTuningExperiment.Run([1e1], seed: 2)[0];
        Assert.NotEqual(first.Losses[0], second.Losses[0]);
        Assert.Equal(first.Ratio, second.Ratio, 1e-5);
    }
}
