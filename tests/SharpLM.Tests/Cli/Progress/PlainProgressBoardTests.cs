using SharpLM.Cli.Progress;

namespace SharpLM.Tests.Cli.Progress;

public class PlainProgressBoardTests
{
    [Fact]
    public void Update_WhenRedirected_PrintsOccasionalLinesAndOneWhenDone()
    {
        var output = new StringWriter();
        ProgressDisplay.Run(output, board =>
        {
            ProgressBar bar = board.Add("reading", 2_000_000, ProgressUnit.Bytes);
            for (int i = 0; i <= 20; i++)
            {
                bar.Update(i * 100_000);
            }
            bar.Update(2_000_000);
            return 0;
        });
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("reading: done, 2.0 MB in ", lines[0]);
    }

    [Fact]
    public void Update_AfterTheInterval_PrintsPercentage()
    {
        var output = new StringWriter();
        var board = new PlainProgressBoard(output, TimeSpan.Zero);
        ProgressBar bar = board.Add("merging", 200);
        bar.Update(50);
        Assert.Equal("merging: 25% (50 of 200)", output.ToString().Trim());
    }
}
