using SharpLM.Training;

namespace SharpLM.Tests.Training;

public sealed class EvaluationWindowsTests
{
    [Theory]
    [InlineData(100, 32, 32)]
    [InlineData(100, 32, 8)]
    [InlineData(100, 32, 1)]
    [InlineData(97, 32, 32)] // 96 targets: exactly three windows
    [InlineData(20, 32, 32)] // shorter than one context: one window of all 19 targets
    [InlineData(2, 4, 4)]
    public void Strided_ScoresEveryTargetOnce_WithAtLeastLengthMinusStrideContext(long tokenCount, int contextLength, int stride)
    {
        var windows = EvaluationWindows.Strided(tokenCount, contextLength, stride);
        var timesScored = new int[tokenCount];
        int length = (int)Math.Min(contextLength, tokenCount - 1);
        foreach (var window in windows)
        {
            Assert.Equal(length, window.Length);
            Assert.InRange(window.Start, 0, tokenCount - 1 - window.Length);
            for (int position = window.FirstScored; position < window.Length; position++)
            {
                long target = window.Start + position + 1;
                timesScored[target]++;
                // The context of a target is the window's tokens before it: all of them up to the first L, then ≥ L − stride.
                Assert.True(position >= Math.Min(target - 1, length - stride), $"target {target} has only {position} tokens of context");
            }
        }
        Assert.Equal(0, timesScored[0]);
        Assert.All(timesScored.Skip(1), count => Assert.Equal(1, count));
    }

    [Fact]
    public void Strided_WithStrideOfTheContext_IsNonOverlappingBeforeTheTail()
    {
        var windows = EvaluationWindows.Strided(100, 32, 32);
        Assert.Equal(
            [new EvaluationWindow(0, 32, 0), new EvaluationWindow(32, 32, 0), new EvaluationWindow(64, 32, 0), new EvaluationWindow(67, 32, 29)],
            windows);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(33)]
    public void Strided_WithStrideOutsideTheContext_NamesTheRange(int stride)
    {
        var error = Assert.Throws<ArgumentException>(() => EvaluationWindows.Strided(100, 32, stride));
        Assert.Contains("stride must be in [1, 32]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NonOverlapping_LeavesTheTailOut_AndStopsAtTheCap()
    {
        Assert.Equal([new EvaluationWindow(0, 10, 0), new EvaluationWindow(10, 10, 0), new EvaluationWindow(20, 10, 0)],
            EvaluationWindows.NonOverlapping(35, 10));
        Assert.Single(EvaluationWindows.NonOverlapping(35, 10, maxWindows: 1));
    }
}
