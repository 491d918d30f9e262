using SharpLM.Data;
using SharpLM.Model;
using SharpLM.Precision;
using SharpLM.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Tests.Training;

[Collection(ProcessMemoryCollection.Name)]
public sealed class TrainerTests : IDisposable
{
    const int VocabularySize = 32;
    readonly string directory = Directory.CreateTempSubdirectory("sharplm-trainer-").FullName;
    readonly TokenDataset train;
    readonly TokenDataset validation;

    public TrainerTests()
    {
        train = Dataset("train", 20_000, seed: 1);
        validation = Dataset("val", 4_000, seed: 2);
    }

    public void Dispose()
    {
        train.Dispose();
        validation.Dispose();
        Directory.Delete(directory, recursive: true);
    }

    /// <summary>Counting sequences 0, 1, 2, … that restart at a random id now and then: learnable from context.</summary>
    TokenDataset Dataset(string name, int count, int seed)
    {
        var random = new Random(seed);
        var ids = new ushort[count];
        int current = 0;
        for (int i = 0; i < count; i++)
        {
            current = random.Next(10) == 0 ? random.Next(VocabularySize) : (current + 1) % VocabularySize;
            ids[i] = (ushort)current;
        }
        string path = Path.Combine(directory, name + ".tokens");
        File.WriteAllBytes(path, System.Runtime.InteropServices.MemoryMarshal.AsBytes(ids.AsSpan()).ToArray());
        return TokenDataset.OpenRaw(path, TokenFile.DTypeUInt16, count, VocabularySize);
    }

    static TrainingConfig Config(string runDirectory, long steps) => new()
    {
        ContextLength = 16,
        DModel = 32,
        NumLayers = 2,
        NumHeads = 2,
        DFf = 64,
        BatchSize = 8,
        Steps = steps,
        WarmupIters = 5,
        MaxLearningRate = 3e-3,
        MinLearningRate = 3e-4,
        LogInterval = 5,
        EvalInterval = 20,
        EvalBatches = 4,
        CheckpointInterval = 30,
        RunDirectory = runDirectory,
    };

    static TransformerConfig ModelConfig(TrainingConfig config) => config.ModelConfig(VocabularySize);

    sealed record Parts(TransformerLM Model, SharpLM.Training.AdamW Optimizer, Trainer Trainer, RunDirectory Run, Generator Sampler);

    Parts Build(TrainingConfig config, RecordingObserver observer, ulong initSeed = 7)
    {
        var run = new RunDirectory(config.RunDirectory!);
        run.EnsureWritable();
        using var init = new Generator(initSeed);
        var modelConfig = ModelConfig(config);
        var model = new TransformerLM(modelConfig, generator: init);
        var optimizer = new SharpLM.Training.AdamW(model.parameters(), config.MaxLearningRate, config.Beta1, config.Beta2, config.Eps, config.WeightDecay);
        var trainer = new Trainer(config, model, optimizer, train, validation, run, CPU, observer, modelConfig.ToJson());
        return new Parts(model, optimizer, trainer, run, new Generator((ulong)config.Seed));
    }

    sealed class RecordingObserver(Action<TrainingProgress>? onProgress = null) : ITrainingObserver
    {
        public List<TrainingProgress> Progress { get; } = [];
        public List<(long Step, EvaluationResult Result)> Evaluations { get; } = [];
        public List<(long Step, string Path)> Checkpoints { get; } = [];

        public void OnProgress(TrainingProgress progress)
        {
            Progress.Add(progress);
            onProgress?.Invoke(progress);
        }

        public void OnEvaluation(long step, EvaluationResult result) => Evaluations.Add((step, result));
        public void OnCheckpoint(long step, string path) => Checkpoints.Add((step, path));
        public void OnMessage(string message) { }
    }

    [Fact]
    public void Run_OnLearnableData_LowersLossAndWritesMetricsCheckpointsAndCurves()
    {
        var config = Config(Path.Combine(directory, "run"), steps: 60);
        var observer = new RecordingObserver();
        var parts = Build(config, observer);

        var outcome = parts.Trainer.Run(TrainingStart.Fresh, parts.Sampler, CancellationToken.None);

        Assert.Equal(TrainingStopReason.Completed, outcome.Reason);
        Assert.Equal(60, outcome.Step);
        Assert.Equal([0L, 20, 40, 60], observer.Evaluations.Select(e => e.Step));
        Assert.True(observer.Evaluations[0].Result.Loss > observer.Evaluations[^1].Result.Loss + 1, "the untrained model's loss opens the curve");
        Assert.True(observer.Evaluations[^1].Result.Loss < Math.Log(VocabularySize) - 1,
            $"validation loss {observer.Evaluations[^1].Result.Loss} should be far below uniform {Math.Log(VocabularySize)}");
        Assert.Equal([30L, 60], observer.Checkpoints.Select(c => c.Step));
        Assert.Equal(parts.Run.CheckpointPath(60), parts.Run.LatestCheckpoint());

        var records = MetricRecord.ReadAll(parts.Run.MetricsPath);
        Assert.Equal(12, records.Count(r => r.TrainLoss is not null));
        Assert.Equal(4, records.Count(r => r.ValLoss is not null));
        Assert.All(records.Where(r => r.TrainLoss is not null), r => Assert.True(r.TokensPerSecond > 0 && r.GradientNorm > 0));
        Assert.Equal(60 * config.TokensPerStep, records[^1].TokensSeen);
        foreach (string plot in new[] { parts.Run.LossByStepPlotPath, parts.Run.LossByTimePlotPath })
        {
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(plot)[..4]);
        }
    }

    [Theory]
    [InlineData(PrecisionSetting.Fp32)]
    [InlineData(PrecisionSetting.Bf16)]
    public void Run_InterruptedThenResumedFromCheckpoint_EndsBitIdenticalToStraightRun(PrecisionSetting precision)
    {
        var straightConfig = Config(Path.Combine(directory, "straight"), steps: 40) with { Precision = precision };
        var straight = Build(straightConfig, new RecordingObserver());
        straight.Trainer.Run(TrainingStart.Fresh, straight.Sampler, CancellationToken.None);

        var config = Config(Path.Combine(directory, "resumed"), steps: 40) with { Precision = precision };
        using var cancellation = new CancellationTokenSource();
        var first = Build(config, new RecordingObserver(p => { if (p.Step == 20) { cancellation.Cancel(); } }));
        var interrupted = first.Trainer.Run(TrainingStart.Fresh, first.Sampler, cancellation.Token);
        Assert.Equal(TrainingStopReason.Interrupted, interrupted.Reason);
        Assert.Equal(20, interrupted.Step);
        Assert.Equal(first.Run.CheckpointPath(20), interrupted.LastCheckpoint);

        var second = Build(config, new RecordingObserver(), initSeed: 999);
        Checkpoint.Load(interrupted.LastCheckpoint!, second.Model, second.Optimizer, out var metadata);
        second.Sampler.set_state(tensor(metadata.RandomStates["sampler"]));
        var resumed = second.Trainer.Run(TrainingStart.From(metadata), second.Sampler, CancellationToken.None);

        Assert.Equal(TrainingStopReason.Completed, resumed.Reason);
        foreach (var ((name, expected), (_, actual)) in straight.Model.named_parameters().Zip(second.Model.named_parameters()))
        {
            Assert.True(expected.eq(actual).all().item<bool>(), $"{name} differs after resume");
        }
        Assert.Equal(40 * config.TokensPerStep, MetricRecord.ReadAll(second.Run.MetricsPath)[^1].TokensSeen);
    }

    [Fact]
    public void Run_WithTimeBudget_FollowsTheScheduleByTimeAndStopsWhenSpentWithEvaluationAndCheckpoint()
    {
        var budget = TimeSpan.FromSeconds(3);
        var config = Config(Path.Combine(directory, "budget"), steps: 5) with
        {
            TimeBudget = budget,
            WarmupTime = TimeSpan.FromSeconds(0.5),
            LogInterval = 1,
            EvalInterval = 100_000,
            CheckpointInterval = 100_000,
        };
        var observer = new RecordingObserver();
        var parts = Build(config, observer);

        var outcome = parts.Trainer.Run(TrainingStart.Fresh, parts.Sampler, CancellationToken.None);

        Assert.Equal(TrainingStopReason.Completed, outcome.Reason);
        Assert.True(outcome.Step > config.Steps, $"the budget, not --steps 5, ends the run; it took {outcome.Step} steps");
        var steps = MetricRecord.ReadAll(parts.Run.MetricsPath).Where(r => r.TrainLoss is not null).ToList();
        Assert.Equal(outcome.Step, steps[^1].Step);
        Assert.InRange(steps[^1].Seconds, budget.TotalSeconds - 1, budget.TotalSeconds + 2);
        Assert.Equal([0L, outcome.Step], observer.Evaluations.Select(e => e.Step));
        Assert.Equal([outcome.Step], observer.Checkpoints.Select(c => c.Step));
        // Each step's rate is the schedule at the training time the step began: the training clock after the step
        // before it. That clock leaves out the step-0 evaluation, so it runs behind the wall clock.
        double Rate(double seconds) => LearningRateSchedule.CosineWithWarmup(seconds, config.MaxLearningRate, config.MinLearningRate, 0.5, budget.TotalSeconds);
        foreach (var (before, after) in steps.Zip(steps.Skip(1)))
        {
            Assert.Equal(Rate(before.TrainingSeconds!.Value), after.LearningRate, 1e-12);
        }
        Assert.True(steps[^1].TrainingSeconds < steps[^1].Seconds);
        Assert.InRange(steps[^1].TrainingSeconds!.Value, budget.TotalSeconds - 1, budget.TotalSeconds + 1);
        Assert.True(steps[^1].LearningRate < config.MinLearningRate + 0.25 * (config.MaxLearningRate - config.MinLearningRate),
            $"the last step's rate {steps[^1].LearningRate} should be near the end of the cosine");
    }

    [Fact]
    public void Run_WithTimeBudgetResumed_CountsTheTimeSpentBeforeTheInterruption()
    {
        var budget = TimeSpan.FromSeconds(4);
        var config = Config(Path.Combine(directory, "budget-resume"), steps: 5) with { TimeBudget = budget, EvalInterval = 100_000 };
        // The callback's clock is the wall clock, evaluation included; the budget's is training steps only.
        using var cancellation = new CancellationTokenSource();
        var first = Build(config, new RecordingObserver(p => { if (p.Elapsed.TotalSeconds >= 1.5) { cancellation.Cancel(); } }));
        var interrupted = first.Trainer.Run(TrainingStart.Fresh, first.Sampler, cancellation.Token);
        Assert.Equal(TrainingStopReason.Interrupted, interrupted.Reason);

        var second = Build(config, new RecordingObserver(), initSeed: 999);
        Checkpoint.Load(interrupted.LastCheckpoint!, second.Model, second.Optimizer, out var metadata);
        var resumeClock = System.Diagnostics.Stopwatch.StartNew();
        var resumed = second.Trainer.Run(TrainingStart.From(metadata), second.Sampler, CancellationToken.None);
        resumeClock.Stop();

        Assert.Equal(TrainingStopReason.Completed, resumed.Reason);
        double spentBefore = TrainingStart.From(metadata).TrainingSeconds!.Value;
        Assert.True(spentBefore < TrainingStart.From(metadata).Seconds, "the step-0 evaluation is not training time");
        Assert.True(spentBefore >= 1, $"the checkpoint counts {spentBefore} s of training");
        Assert.InRange(MetricRecord.ReadAll(second.Run.MetricsPath)[^1].Seconds, budget.TotalSeconds - 1, budget.TotalSeconds + 2);
        Assert.True(resumeClock.Elapsed.TotalSeconds < budget.TotalSeconds - spentBefore + 2,
            $"the resumed run took {resumeClock.Elapsed.TotalSeconds} s of the {budget.TotalSeconds - spentBefore} s left");

        // Once the budget is spent, resuming again trains no further.
        Checkpoint.Load(resumed.LastCheckpoint!, second.Model, second.Optimizer, out var end);
        var again = second.Trainer.Run(TrainingStart.From(end), second.Sampler, CancellationToken.None);
        Assert.Equal((TrainingStopReason.Completed, resumed.Step), (again.Reason, again.Step));
    }

    [Fact]
    public void Run_WhenLossDiverges_StopsWithMessageAndKeepsLastGoodCheckpoint()
    {
        var config = Config(Path.Combine(directory, "diverge"), steps: 40) with
        {
            CheckpointInterval = 2,
            WarmupIters = 0,
            GradientClip = null,
        };
        var observer = new RecordingObserver();
        var parts = Build(config, observer);
        // Steps 0-1 at a sane rate give a good checkpoint; then an absurd rate blows the weights up.
        parts.Trainer.Run(TrainingStart.Fresh, parts.Sampler, CancellationToken.None).GetHashCode();
        var blowUp = config with { MaxLearningRate = 1e30, MinLearningRate = 1e30, Steps = 40, RunDirectory = Path.Combine(directory, "diverge2"), CheckpointInterval = 1000 };
        var exploding = Build(blowUp, new RecordingObserver());
        Checkpoint.Load(parts.Run.CheckpointPath(2), exploding.Model, exploding.Optimizer, out var metadata);
        var outcome = exploding.Trainer.Run(TrainingStart.From(metadata), exploding.Sampler, CancellationToken.None);

        Assert.Equal(TrainingStopReason.NonFiniteLoss, outcome.Reason);
        Assert.Contains("step", outcome.Message, StringComparison.Ordinal);
        // The step that stopped it is logged as it was, so the run reads as diverged afterwards (compare).
        var last = MetricRecord.ReadAll(exploding.Run.MetricsPath)[^1];
        Assert.Equal(outcome.Step, last.Step);
        Assert.True(last.TrainLoss is { } loss && !double.IsFinite(loss) || last.GradientNorm is { } norm && !double.IsFinite(norm), last.ToJson());
        Assert.True(new SharpLM.Experiments.Divergence().IsDiverged(MetricRecord.ReadAll(exploding.Run.MetricsPath)));
        Assert.Null(exploding.Run.LatestCheckpoint());
        Assert.Equal(2, Checkpoint.Load(parts.Run.CheckpointPath(2), parts.Model, parts.Optimizer));
    }

    [Theory]
    [InlineData(PrecisionSetting.Fp32)]
    [InlineData(PrecisionSetting.Bf16)]
    public void Run_ThreeHundredSteps_KeepsMemoryFlat(PrecisionSetting precision)
    {
        var config = Config(Path.Combine(directory, "memory"), steps: 300) with
        {
            EvalInterval = 1000,
            CheckpointInterval = 1000,
            LogInterval = 10,
            Precision = precision,
        };
        long atStep50 = 0, atEnd = 0;
        var observer = new RecordingObserver(p =>
        {
            if (p.Step == 50)
            {
                atStep50 = ProcessMemory.AnonymousResidentBytes();
            }
            if (p.Step == 300)
            {
                atEnd = ProcessMemory.AnonymousResidentBytes();
            }
        });
        var parts = Build(config, observer);
        parts.Trainer.Run(TrainingStart.Fresh, parts.Sampler, CancellationToken.None);
        long growth = atEnd - atStep50;
        Assert.True(growth < 16L << 20, $"memory grew by {growth / (1 << 20)} MB over 250 steps");
    }
}
