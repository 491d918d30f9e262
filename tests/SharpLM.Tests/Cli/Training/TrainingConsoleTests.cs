using SharpLM.Cli.Training;

namespace SharpLM.Tests.Cli.Training;

public class TrainingConsoleTests
{
    [Theory]
    [InlineData(59, "0:59")]
    [InlineData(3_599, "59:59")]
    [InlineData(3_600, "1:00:00")]
    [InlineData(104_160, "28:56:00")] // the handout's run at fp32 speed: past a day, not "4:56"
    public void Format_OfElapsedAndRemainingTime_CountsWholeHours(int seconds, string expected) =>
        Assert.Equal(expected, TrainingConsole.Format(TimeSpan.FromSeconds(seconds)));
}
