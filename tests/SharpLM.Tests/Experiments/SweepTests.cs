using System.Text.Json;
using SharpLM.Data;
using SharpLM.Experiments;
using SharpLM.Training;

namespace SharpLM.Tests.Experiments;

[Collection(ProcessMemoryCollection.Name)]
public sealed class SweepTests : IDisposable
{
    const int VocabularySize = 32;
    readonly string directory = Directory.CreateTempSubdirectory("sharplm-sweep-").FullName;
    readonly TrainingConfig baseConfig;

    public SweepTests()
    {
        baseConfig = new TrainingConfig
        {
            Train = TokenFileOf("train", 6_000, seed: 1),
            Val = TokenFileOf("val", 2_000, seed: 2),
            ContextLength = 16,
            DModel = 32,
            NumLayers = 1,
            NumHeads = 2,
            DFf = 64,
            BatchSize = 4,
            Steps = 12,
            WarmupIters = 2,
            MaxLearningRate = 3e-3,
            MinLearningRate = 0,
            LogInterval = 2,
            EvalInterval = 6,
            EvalBatches = 2,
            CheckpointInterval = 4,
            Precision = SharpLM.Precision.PrecisionSetting.Fp32,
        };
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>Counting sequences that restart at a random id now and then: learnable, so a sane rate lowers the loss.</summary>
    string TokenFileOf(string name, int count, int seed)
    {
        var random = new Random(seed);
        var ids = new int[count];
        for (int i = 1; i < count; i++)
        {
            ids[i] = random.Next(10) == 0 ? random.Next(VocabularySize) : (ids[i - 1] + 1) % VocabularySize;
        }
        string path = Path.Combine(directory, name + ".tokens");
        TokenFile.Write(path, ids, VocabularySize, "synthetic");
        return path;
    }

    static ITrainingObserver Silent(SweepPoint point) => SilentTrainingObserver.Instance;

    [Fact]
    public void Run_WhenOneRateDiverges_MarksAndStopsItAndFinishesTheOthersSortedByFinalLoss()
    {
        string output = Path.Combine(directory, "lr");
        var sweep = Sweep.Create(baseConfig with { Steps = 30, GradientClip = null }, [GridAxis.Parse("max_lr=1e-3,1e6,1e-2")], output);

        var states = sweep.Run(Silent, _ => { });

        Assert.Equal([SweepRunState.Completed, SweepRunState.Diverged, SweepRunState.Completed], states.Select(s => s.Status));
        long divergedSteps = MetricRecord.ReadAll(Path.Combine(output, "max_lr=1e6", "metrics.jsonl")).Max(r => r.Step);
        Assert.True(divergedSteps < 30, $"the diverged run should stop early, it ran {divergedSteps} steps");
        var document = JsonSerializer.Deserialize<JsonElement>(File.ReadAllText(Path.Combine(output, "sweep.json")));
        var table = document.GetProperty("table").EnumerateArray().ToList();
        Assert.Equal(["max_lr=1e-2", "max_lr=1e-3", "max_lr=1e6"], table.Select(row => row.GetProperty("name").GetString()));
        Assert.True(table[0].GetProperty("final_val_loss").GetDouble() < table[1].GetProperty("final_val_loss").GetDouble());
        Assert.Equal([false, false, true], table.Select(row => row.GetProperty("diverged").GetBoolean()));
        Assert.Equal([30L, 30], table.Take(2).Select(row => row.GetProperty("steps").GetInt64()));
        string markdown = File.ReadAllText(Path.Combine(output, "sweep.md"));
        Assert.True(markdown.IndexOf("| max_lr=1e-2 ", StringComparison.Ordinal) < markdown.IndexOf("| max_lr=1e-3 ", StringComparison.Ordinal));
        Assert.Contains("| diverged |", markdown, StringComparison.Ordinal);
        foreach (string plot in new[] { "curves-by-step.png", "curves-by-time.png" })
        {
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(Path.Combine(output, plot))[..4]);
        }
    }

    [Fact]
    public void Resume_AfterAnInterruption_KeepsFinishedRunsResumesTheInterruptedOneAndStartsTheRest()
    {
        string output = Path.Combine(directory, "resume");
        var sweep = Sweep.Create(baseConfig, [GridAxis.Parse("max_lr=1e-3,2e-3,3e-3")], output);
        using var interrupt = new CancellationTokenSource();
        var states = sweep.Run(point => point.Name == "max_lr=2e-3" ? new CancelAt(6, interrupt) : SilentTrainingObserver.Instance, _ => { }, interrupt.Token);
        Assert.Equal([SweepRunState.Completed, SweepRunState.Interrupted, SweepRunState.Pending], states.Select(s => s.Status));
        string firstMetrics = Path.Combine(output, "max_lr=1e-3", "metrics.jsonl");
        byte[] finished = File.ReadAllBytes(firstMetrics);
        long interruptedAt = new RunDirectory(Path.Combine(output, "max_lr=2e-3")).LatestCheckpoint() is { } checkpoint
            ? Checkpoint.ReadMetadata(checkpoint).Iteration
            : -1;
        Assert.InRange(interruptedAt, 6, 11);

        var resumed = Sweep.Resume(output);
        var started = new List<string>();
        var final = resumed.Run(point => { started.Add(point.Name); return SilentTrainingObserver.Instance; }, _ => { });

        Assert.All(final, state => Assert.Equal(SweepRunState.Completed, state.Status));
        Assert.Equal(["max_lr=2e-3", "max_lr=3e-3"], started);
        Assert.Equal(finished, File.ReadAllBytes(firstMetrics));
        var resumedSteps = MetricRecord.ReadAll(Path.Combine(output, "max_lr=2e-3", "metrics.jsonl")).Where(r => r.TrainLoss is not null).Select(r => r.Step).ToList();
        Assert.Equal([2L, 4, 6, 8, 10, 12], resumedSteps);
        Assert.Throws<IOException>(() => Sweep.Create(baseConfig, [GridAxis.Parse("max_lr=1e-3")], output));
    }

    [Fact]
    public void Run_InParallel_SplitsTheCoresAndFinishesEveryRun()
    {
        string output = Path.Combine(directory, "parallel");
        var sweep = Sweep.Create(baseConfig, [GridAxis.Parse("batch_size=2,4")], output, parallel: 2);

        var states = sweep.Run(Silent, _ => { });

        Assert.All(states, state => Assert.Equal(SweepRunState.Completed, state.Status));
        foreach (string run in new[] { "batch_size=2", "batch_size=4" })
        {
            var config = TrainingConfig.Load(Path.Combine(output, run, "config.json"));
            Assert.Equal(Math.Max(1, Environment.ProcessorCount / 2), config.Threads);
            Assert.Equal(12, MetricRecord.ReadAll(Path.Combine(output, run, "metrics.jsonl")).Max(r => r.Step));
        }
    }

    /// <summary>Asks the sweep to stop (as Ctrl+C does) once a run reaches a step.</summary>
    sealed class CancelAt(long step, CancellationTokenSource source) : ITrainingObserver
    {
        public void OnProgress(TrainingProgress progress)
        {
            if (progress.Step >= step)
            {
                source.Cancel();
            }
        }

        public void OnEvaluation(long step, EvaluationResult result) { }
        public void OnCheckpoint(long step, string path) { }
        public void OnMessage(string message) { }
    }
}
