using SharpLM.Accounting;

namespace SharpLM.Tests.Accounting;

public class TrainingTimeTests
{
    [Fact]
    public void ForSteps_Gpt2Xl400KStepsOfBatch1024OnAnA100AtHalfMfu_TakesAbout6584Days()
    {
        var time = TrainingTime.ForSteps(ModelPresets.Get("gpt2-xl"), steps: 400_000, batchSize: 1024, peakFlopsPerSecond: 19.5e12, modelFlopsUtilization: 0.5);

        // forward 4,513,336,524,800 per sequence; backward twice that; AdamW 14 · 2,127,057,600 per step
        double flopsPerStep = 3 * 4_513_336_524_800.0 * 1024 + 14 * 2_127_057_600.0;
        Assert.Equal(flopsPerStep, time.FlopsPerStep);
        Assert.Equal(400_000 * flopsPerStep / (19.5e12 * 0.5) / 86_400, time.Days, precision: 9);
        Assert.Equal(6_583.6, time.Days, precision: 1);
    }

    [Fact]
    public void ForTokens_CoversTheBudgetWithWholeSteps()
    {
        var config = ModelPresets.Get("tinystories");

        // The handout's CPU run: 40,960,000 tokens = 5000 steps of 32 × 256.
        Assert.Equal(5_000, TrainingTime.ForTokens(config, 40_960_000, 32, 1e12, 0.5).Steps);
        Assert.Equal(5_001, TrainingTime.ForTokens(config, 40_960_001, 32, 1e12, 0.5).Steps);
        Assert.Equal(40_960_000, TrainingTime.ForTokens(config, 40_960_000, 32, 1e12, 0.5).Tokens);
    }

    [Theory]
    [InlineData(0, 1e12, 0.5)]
    [InlineData(10, 0, 0.5)]
    [InlineData(10, double.PositiveInfinity, 0.5)]
    [InlineData(10, 1e12, 0)]
    [InlineData(10, 1e12, 1.01)]
    [InlineData(10, 1e12, double.NaN)]
    public void ForSteps_WithAValueOutOfRange_Throws(long steps, double peak, double mfu)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TrainingTime.ForSteps(ModelPresets.Get("tinystories"), steps, 8, peak, mfu));
    }
}
