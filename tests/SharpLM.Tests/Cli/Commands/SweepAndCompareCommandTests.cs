using SharpLM.Cli;
using SharpLM.Data;

namespace SharpLM.Tests.Cli.Commands;

[Collection(ProcessMemoryCollection.Name)]
public sealed class SweepAndCompareCommandTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("sharplm-cli-sweep-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    string[] TinyBase()
    {
        string train = Path.Combine(directory, "train.txt");
        string val = Path.Combine(directory, "val.txt");
        StoryCorpus.Write(train, 200, 1);
        StoryCorpus.Write(val, 20, 2);
        return ["--train", train, "--val", val, "--vocab-size", "300", "--context-length", "32", "--d-model", "32", "--num-layers", "1",
            "--num-heads", "2", "--d-ff", "64", "--batch-size", "4", "--steps", "8", "--warmup-iters", "2", "--eval-interval", "4",
            "--eval-batches", "2", "--checkpoint-interval", "4", "--log-interval", "2", "--precision", "fp32"];
    }

    [Fact]
    public void Sweep_ThenCompare_WriteTablesSortedByFinalLossAndCurves()
    {
        string output = Path.Combine(directory, "sweep");
        var swept = CliRun.Of(["sweep", .. TinyBase(), "--grid", "max_lr=1e-4,1e-2", "--out", output]);
        Assert.True(swept.ExitCode == ExitCodes.Success, swept.Error + swept.Output);
        Assert.Contains("run 2/2 max_lr=1e-2: completed", swept.Output, StringComparison.Ordinal);
        foreach (string file in new[] { "sweep.md", "sweep.json", "base.json", "curves-by-step.png", "curves-by-time.png", "max_lr=1e-4/config.json", "max_lr=1e-2/metrics.jsonl" })
        {
            Assert.True(File.Exists(Path.Combine(output, file)), $"{file} is missing");
        }

        string compared = Path.Combine(directory, "compare");
        var compare = CliRun.Of("compare", Path.Combine(output, "max_lr=1e-4"), Path.Combine(output, "max_lr=1e-2") + Path.DirectorySeparatorChar, "--out", compared);

        Assert.True(compare.ExitCode == ExitCodes.Success, compare.Error + compare.Output);
        var rows = compare.Output.Split('\n').Where(line => line.StartsWith("| max_lr", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, rows.Count);
        Assert.StartsWith("| max_lr=1e-2 | max_learning_rate=0.01 |", rows[0], StringComparison.Ordinal);
        Assert.StartsWith("| max_lr=1e-4 | max_learning_rate=0.0001 |", rows[1], StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(compared, "compare.md")) && File.Exists(Path.Combine(compared, "curves-by-time.png")));
    }

    [Fact]
    public void Sweep_WithAGridValueOfTheWrongType_FailsInOneLineBeforeTraining()
    {
        string output = Path.Combine(directory, "bad");
        CliRun.Of(["sweep", .. TinyBase(), "--grid", "batch_size=4,lots", "--out", output]).AssertOneLineError("batch_size=lots");
        Assert.False(Directory.Exists(Path.Combine(output, "batch_size=4")));
    }

    [Fact]
    public void Sweep_OffersNoRunDir_SinceEachRunLivesUnderOut()
    {
        var help = CliRun.Of("sweep", "--help");
        Assert.Contains("--out", help.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("--run-dir", help.Output, StringComparison.Ordinal);
        Assert.NotEqual(0, CliRun.Of("sweep", "--run-dir", directory, "--out", directory, "--grid", "max_lr=1").ExitCode);
    }

    [Fact]
    public void Sweep_ResumeWithAGrid_FailsInOneLine()
    {
        CliRun.Of("sweep", "--resume", "--out", directory, "--grid", "max_lr=1").AssertOneLineError("leave out --grid");
    }

    [Fact]
    public void Compare_OfADirectoryThatIsNotARun_FailsInOneLine()
    {
        CliRun.Of("compare", directory, "--out", Path.Combine(directory, "out")).AssertOneLineError("is not a run directory");
    }
}
