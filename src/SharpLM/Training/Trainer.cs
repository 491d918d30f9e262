using System.Diagnostics;
using SharpLM.Data;
using SharpLM.Distributed;
using SharpLM.Precision;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>
/// Where a run starts: step 0 of a new run, or the state saved in a checkpoint. <paramref name="TrainingSeconds"/>
/// is the part of <paramref name="Seconds"/> spent in training steps, without evaluation and checkpoints: what a
/// time budget counts (checkpoints from before it existed count their whole time).
/// </summary>
public sealed record TrainingStart(long Step, double Seconds, long TokensSeen, double? TrainingSeconds = null)
{
    public static TrainingStart Fresh { get; } = new(0, 0, 0);

    public static TrainingStart From(CheckpointMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return new TrainingStart(
            metadata.Iteration,
            metadata.Counters.GetValueOrDefault(Trainer.SecondsCounter),
            (long)metadata.Counters.GetValueOrDefault(Trainer.TokensSeenCounter),
            metadata.Counters.TryGetValue(Trainer.TrainingSecondsCounter, out double training) ? training : null);
    }
}

/// <summary>
/// The training loop (§5.3): schedule the learning rate, take a <see cref="TrainingStep"/> on sampled batches; log,
/// evaluate (in the step's precision), plot and checkpoint at their intervals. It owns nothing but the loop.
/// In a <see cref="IProcessGroup"/> of several processes each draws its own batches, the step averages the
/// gradients, evaluation is split across the processes, and rank 0 alone writes files and tells the observer.
/// </summary>
public sealed class Trainer(
    TrainingConfig config,
    nn.Module<Tensor, Tensor> model,
    AdamW optimizer,
    TokenDataset train,
    TokenDataset? validation,
    RunDirectory run,
    Device device,
    ITrainingObserver observer,
    string modelConfigJson,
    IProcessGroup? processGroup = null)
{
    internal const string SamplerState = "sampler";
    internal const string SecondsCounter = "seconds";
    internal const string TrainingSecondsCounter = "training_seconds";
    internal const string TokensSeenCounter = "tokens_seen";
    internal const string WorldSizeCounter = "world_size";

    readonly IProcessGroup world = processGroup ?? SingleProcess.Instance;

    /// <summary>Where rank <paramref name="rank"/>'s sampler state is saved; rank 0's is where a single process keeps its own.</summary>
    internal static string SamplerStateKey(int rank) => rank == 0 ? SamplerState : $"{SamplerState}.rank{rank}";

    public TrainingOutcome Run(TrainingStart start, Generator sampler, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(sampler);
        // A time budget replaces the step count: the loop ends when the clock says so.
        double? budget = config.TimeBudget?.TotalSeconds;
        long totalSteps = budget is null ? config.TotalStepsAcross(world.Size) : long.MaxValue;
        var precision = PrecisionChoice.Resolve(config.Precision, device).Precision;
        var trainingStep = new TrainingStep(model, optimizer, precision, config.GradientClip, config.GradAccumSteps, world.GradientReduction);
        bool leader = world.Rank == 0;
        var watcher = leader ? observer : SilentTrainingObserver.Instance;
        long tokensPerStep = config.TokensPerStep * world.Size;
        var clock = Stopwatch.StartNew();
        double Seconds() => start.Seconds + clock.Elapsed.TotalSeconds;
        long tokensSeen = start.TokensSeen;
        string? lastCheckpoint = null;
        EvaluationResult? lastEvaluation = null;
        double? lastTrainLoss = null;
        var intervalClock = Stopwatch.StartNew();
        long intervalTokens = 0;
        double lastStepSeconds = 0;
        double trainingSeconds = start.TrainingSeconds ?? start.Seconds;
        long finalStep = start.Step;
        bool budgetSpent = budget is { } allowed && trainingSeconds >= allowed;

        void Record(MetricRecord record)
        {
            if (leader)
            {
                File.AppendAllText(run.MetricsPath, record.ToJson() + "\n");
            }
        }

        string SaveCheckpoint(long step)
        {
            string path = run.CheckpointPath(step);
            byte[][] samplerStates;
            using (var state = sampler.get_state())
            {
                samplerStates = world.AllGather(state.data<byte>().ToArray());
            }
            if (leader)
            {
                Checkpoint.Save(model, optimizer, step, path, new CheckpointMetadata
                {
                    ModelConfig = modelConfigJson,
                    RunConfig = config.ToJson(),
                    RandomStates = Enumerable.Range(0, world.Size).ToDictionary(SamplerStateKey, rank => samplerStates[rank]),
                    Counters = new Dictionary<string, double>
                    {
                        [SecondsCounter] = Seconds(),
                        [TrainingSecondsCounter] = trainingSeconds,
                        [TokensSeenCounter] = tokensSeen,
                        [WorldSizeCounter] = world.Size,
                    },
                });
            }
            // No rank goes on (and none can be killed into a half-written state unnoticed) before the file is in place.
            world.Barrier();
            watcher.OnCheckpoint(step, path);
            return path;
        }

        // The step whose loss or gradient norm stopped the run, logged as it was (NaN or ∞), so the metrics say why the
        // run ended and `compare` marks it diverged; curves skip the non-finite values.
        void RecordBreakdown(long step, double gradientNorm, double? trainLoss) => Record(new MetricRecord
        {
            Step = step,
            Seconds = Seconds(),
            TrainingSeconds = trainingSeconds,
            TokensSeen = tokensSeen,
            TrainLoss = trainLoss,
            LearningRate = optimizer.ParamGroups.First().LearningRate,
            GradientNorm = gradientNorm,
        });

        TrainingOutcome Stop(TrainingStopReason reason, long step, string? message) =>
            new(reason, step, lastEvaluation, lastTrainLoss, lastCheckpoint, message);

        void Evaluate(long step, double lr)
        {
            using (Autocast.Enter(precision))
            {
                lastEvaluation = Evaluation.Evaluate(model, validation!, config.BatchSize, config.ContextLength, device, config.EvalBatches, world);
            }
            Record(new MetricRecord
            {
                Step = step,
                Seconds = Seconds(),
                TokensSeen = tokensSeen,
                ValLoss = lastEvaluation.Loss,
                ValPerplexity = lastEvaluation.Perplexity,
                LearningRate = lr,
            });
            watcher.OnEvaluation(step, lastEvaluation);
        }

        model.train();
        if (validation is not null && start.Step == 0)
        {
            Evaluate(0, 0); // the untrained model's loss: where the curves start
        }
        for (long step = start.Step; step < totalSteps && !budgetSpent; step++)
        {
            if (AnyRank(cancellation.IsCancellationRequested))
            {
                lastCheckpoint = SaveCheckpoint(step);
                return Stop(TrainingStopReason.Interrupted, step, $"interrupted at step {step}; saved {lastCheckpoint}");
            }

            double lr = budget is { } seconds
                ? LearningRateSchedule.CosineWithWarmup(trainingSeconds, config.MaxLearningRate, config.MinLearningRate, config.WarmupTimeOrDefault.TotalSeconds, seconds)
                : LearningRateSchedule.CosineWithWarmup(step, config.MaxLearningRate, config.MinLearningRate, config.WarmupStepsAcross(world.Size), config.CycleItersAcross(world.Size));
            foreach (var group in optimizer.ParamGroups)
            {
                group.LearningRate = lr;
            }

            // Under a budget the loss is read at the step that will likely spend it, so the run's last record has one.
            bool likelyLast = budget is { } limit ? trainingSeconds + lastStepSeconds >= limit : step + 1 == totalSteps;
            bool logNow = (step + 1) % config.LogInterval == 0 || likelyLast;
            double stepStarted = Seconds();
            var result = trainingStep.Take(() => Batches.GetBatch(train, config.BatchSize, config.ContextLength, device, sampler), logNow);
            if (!result.Applied)
            {
                RecordBreakdown(step, result.GradientNorm, trainLoss: null);
                return Stop(TrainingStopReason.NonFiniteLoss, step,
                    $"the gradient norm became {result.GradientNorm} at step {step}; stopped before the update. " +
                    $"The last good checkpoint is {lastCheckpoint ?? run.LatestCheckpoint() ?? "(none yet)"}. Try a lower learning rate.");
            }
            double gradientNorm = result.GradientNorm;
            double? trainLoss = result.Loss is { } rankLoss ? MeanOverRanks(rankLoss) : null;
            tokensSeen += tokensPerStep;
            intervalTokens += tokensPerStep;
            lastStepSeconds = Seconds() - stepStarted;
            trainingSeconds += lastStepSeconds;
            // The budget counts training steps only (evaluating more often does not shorten the training); the run
            // ends at the step that spends it, on all ranks together, and a resume of a spent run trains no further.
            bool last = budget is { } spendable ? AnyRank(trainingSeconds >= spendable) : step + 1 == totalSteps;
            finalStep = step + 1;

            if (trainLoss is { } currentLoss)
            {
                if (!double.IsFinite(currentLoss))
                {
                    RecordBreakdown(step + 1, gradientNorm, currentLoss);
                    return Stop(TrainingStopReason.NonFiniteLoss, step + 1,
                        $"the training loss became {currentLoss} at step {step + 1}. The last good checkpoint is {lastCheckpoint ?? run.LatestCheckpoint() ?? "(none yet)"}.");
                }
                lastTrainLoss = currentLoss;
                RequireIdenticalWeights(step + 1);
                double tokensPerSecond = intervalTokens / Math.Max(intervalClock.Elapsed.TotalSeconds, 1e-9);
                intervalTokens = 0;
                intervalClock.Restart();
                double secondsPerStep = tokensPerStep / tokensPerSecond;
                // Under a budget the step count is an estimate: the steps done plus those the time left allows.
                long expectedSteps = budget is { } total ? step + 1 + (long)(Math.Max(total - trainingSeconds, 0) / secondsPerStep) : totalSteps;
                long remainingSteps = expectedSteps - step - 1;
                Record(new MetricRecord
                {
                    Step = step + 1,
                    Seconds = Seconds(),
                    TrainingSeconds = trainingSeconds,
                    TokensSeen = tokensSeen,
                    TrainLoss = currentLoss,
                    LearningRate = lr,
                    GradientNorm = gradientNorm,
                    TokensPerSecond = tokensPerSecond,
                });
                watcher.OnProgress(new TrainingProgress(step + 1, expectedSteps, currentLoss, lr, gradientNorm, tokensPerSecond,
                    TimeSpan.FromSeconds(Seconds()), TimeSpan.FromSeconds(remainingSteps * secondsPerStep)));
            }

            if (validation is not null && ((step + 1) % config.EvalInterval == 0 || last))
            {
                Evaluate(step + 1, lr);
            }
            if (leader && ((step + 1) % config.EvalInterval == 0 || last))
            {
                LossCurves.Save(MetricRecord.ReadAll(run.MetricsPath), run.LossByStepPlotPath, run.LossByTimePlotPath);
            }
            if ((step + 1) % config.CheckpointInterval == 0 || last)
            {
                lastCheckpoint = SaveCheckpoint(step + 1);
            }
            if (last)
            {
                break;
            }
        }
        return Stop(TrainingStopReason.Completed, finalStep, null);
    }

    /// <summary>Whether any rank says yes: a Ctrl+C reaches the ranks at different moments, but all must stop at the same step.</summary>
    bool AnyRank(bool mine)
    {
        if (world.Size == 1)
        {
            return mine;
        }
        Span<double> votes = [mine ? 1 : 0];
        world.SumInPlace(votes);
        return votes[0] > 0;
    }

    double MeanOverRanks(double value)
    {
        Span<double> sum = [value];
        world.SumInPlace(sum);
        return sum[0] / world.Size;
    }

    /// <summary>
    /// Every rank applies the same update to the same weights, so they must agree to the bit; a difference means a
    /// rank computed something else (another library, a fault), and training on would average unrelated models.
    /// </summary>
    void RequireIdenticalWeights(long step)
    {
        if (world.Size == 1)
        {
            return;
        }
        double checksum = 0;
        using (no_grad())
        {
            foreach (var parameter in model.parameters())
            {
                using var sum = parameter.to_type(ScalarType.Float64).sum();
                checksum += sum.item<double>();
            }
        }
        byte[][] all = world.AllGather(BitConverter.GetBytes(checksum));
        for (int rank = 1; rank < all.Length; rank++)
        {
            if (!all[rank].AsSpan().SequenceEqual(all[0]))
            {
                throw new InvalidOperationException(
                    $"the ranks' weights diverged at step {step}: rank {rank}'s checksum {BitConverter.ToDouble(all[rank]):R} differs from rank 0's {BitConverter.ToDouble(all[0]):R}. " +
                    "Every rank must run the same SharpLM, libtorch and MPI build.");
            }
        }
    }
}
