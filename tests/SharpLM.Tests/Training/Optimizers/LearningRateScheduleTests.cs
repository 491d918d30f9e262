using SharpLM.Training;

namespace SharpLM.Tests.Training;

public class LearningRateScheduleTests
{
    // Independent statement of the handout's schedule: warm-up line, then half a cosine period, then flat.
    static double Expected(long t)
    {
        const double max = 1, min = 0.1, warmup = 7, cycle = 21;
        return t switch
        {
            < 7 => max * t / warmup,
            > 21 => min,
            _ => min + (max - min) * (Math.Cos(Math.PI * (t - warmup) / (cycle - warmup)) + 1) / 2,
        };
    }

    [Fact]
    public void CosineWithWarmup_ForStepsZeroTo24_MatchesFormula()
    {
        for (long t = 0; t <= 24; t++)
        {
            Assert.Equal(Expected(t), LearningRateSchedule.CosineWithWarmup(t, 1, 0.1, 7, 21), 1e-12);
        }
    }

    [Theory]
    [InlineData(0, 0.0)]
    [InlineData(1, 1.0 / 7)]
    [InlineData(2, 2.0 / 7)]
    [InlineData(7, 1.0)]
    [InlineData(8, 0.9887175604818206)]
    [InlineData(14, 0.55)]
    [InlineData(21, 0.1)]
    [InlineData(24, 0.1)]
    public void CosineWithWarmup_AtHandoutPoints_GivesHandoutValues(long t, double expected)
    {
        Assert.Equal(expected, LearningRateSchedule.CosineWithWarmup(t, 1, 0.1, 7, 21), 1e-12);
    }

    [Fact]
    public void CosineWithWarmup_WhenWarmupExceedsCycle_ThrowsNamingBoth()
    {
        var exception = Assert.Throws<ArgumentException>(() => LearningRateSchedule.CosineWithWarmup(0, 1, 0.1, 22, 21));
        Assert.Contains("22", exception.Message, StringComparison.Ordinal);
        Assert.Contains("21", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CosineWithWarmup_WithNegativeStep_Throws()
    {
        Assert.Throws<ArgumentException>(() => LearningRateSchedule.CosineWithWarmup(-1, 1, 0.1, 7, 21));
    }
}
