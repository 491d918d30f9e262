using System.Diagnostics;
using SharpLM.Data;
using SharpLM.Precision;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>Where a run starts: step 0 of a new run, or the state saved in a checkpoint.</summary>
public sealed record TrainingStart(long Step, double Seconds, long TokensSeen)
{
    public static TrainingStart Fresh { get; } = new(0, 0, 0);

    public static TrainingStart From(CheckpointMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return new TrainingStart(
            metadata.Iteration,
            metadata.Counters.GetValueOrDefault(Trainer.SecondsCounter),
            (long)metadata.Counters.GetValueOrDefault(Trainer.TokensSeenCounter));
    }
}

/// <summary>
/// The training loop (§5.3): schedule the learning rate, take a <see cref="TrainingStep"/> on sampled batches; log,
/// evaluate (in the step's precision), plot and checkpoint at their intervals. It owns nothing but the loop.
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
    string modelConfigJson)
{
    internal const string SamplerState = "sampler";
    internal const string SecondsCounter = "seconds";
    internal const string TokensSeenCounter = "tokens_seen";

    public TrainingOutcome Run(TrainingStart start, Generator sampler, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(sampler);
        long totalSteps = config.TotalSteps;
        var precision = PrecisionChoice.Resolve(config.Precision, device).Precision;
        var trainingStep = new TrainingStep(model, optimizer, precision, config.GradientClip, config.GradAccumSteps);
        var clock = Stopwatch.StartNew();
        double Seconds() => start.Seconds + clock.Elapsed.TotalSeconds;
        long tokensSeen = start.TokensSeen;
        string? lastCheckpoint = null;
        EvaluationResult? lastEvaluation = null;
        double? lastTrainLoss = null;
        var intervalClock = Stopwatch.StartNew();
        long intervalTokens = 0;

        void Record(MetricRecord record)
        {
            File.AppendAllText(run.MetricsPath, record.ToJson() + "\n");
        }

        string SaveCheckpoint(long step)
        {
            string path = run.CheckpointPath(step);
            Checkpoint.Save(model, optimizer, step, path, new CheckpointMetadata
            {
                ModelConfig = modelConfigJson,
                RunConfig = config.ToJson(),
                RandomStates = new Dictionary<string, byte[]> { [SamplerState] = sampler.get_state().data<byte>().ToArray() },
                Counters = new Dictionary<string, double> { [SecondsCounter] = Seconds(), [TokensSeenCounter] = tokensSeen },
            });
            observer.OnCheckpoint(step, path);
            return path;
        }

        TrainingOutcome Stop(TrainingStopReason reason, long step, string? message) =>
            new(reason, step, lastEvaluation, lastTrainLoss, lastCheckpoint, message);

        void Evaluate(long step, double lr)
        {
            using (Autocast.Enter(precision))
            {
                lastEvaluation = Evaluation.Evaluate(model, validation!, config.BatchSize, config.ContextLength, device, config.EvalBatches);
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
            observer.OnEvaluation(step, lastEvaluation);
        }

        model.train();
        if (validation is not null && start.Step == 0)
        {
            Evaluate(0, 0); // the untrained model's loss: where the curves start
        }
        for (long step = start.Step; step < totalSteps; step++)
        {
            if (cancellation.IsCancellationRequested)
            {
                lastCheckpoint = SaveCheckpoint(step);
                return Stop(TrainingStopReason.Interrupted, step, $"interrupted at step {step}; saved {lastCheckpoint}");
            }

            double lr = LearningRateSchedule.CosineWithWarmup(step, config.MaxLearningRate, config.MinLearningRate, config.WarmupIters, config.CycleIters);
            foreach (var group in optimizer.ParamGroups)
            {
                group.LearningRate = lr;
            }

            bool logNow = (step + 1) % config.LogInterval == 0 || step + 1 == totalSteps;
            var result = trainingStep.Take(() => Batches.GetBatch(train, config.BatchSize, config.ContextLength, device, sampler), logNow);
            if (!result.Applied)
            {
                return Stop(TrainingStopReason.NonFiniteLoss, step,
                    $"the gradient norm became {result.GradientNorm} at step {step}; stopped before the update. " +
                    $"The last good checkpoint is {lastCheckpoint ?? run.LatestCheckpoint() ?? "(none yet)"}. Try a lower learning rate.");
            }
            double gradientNorm = result.GradientNorm;
            double? trainLoss = result.Loss;
            tokensSeen += config.TokensPerStep;
            intervalTokens += config.TokensPerStep;

            if (trainLoss is { } currentLoss)
            {
                if (!double.IsFinite(currentLoss))
                {
                    return Stop(TrainingStopReason.NonFiniteLoss, step + 1,
                        $"the training loss became {currentLoss} at step {step + 1}. The last good checkpoint is {lastCheckpoint ?? run.LatestCheckpoint() ?? "(none yet)"}.");
                }
                lastTrainLoss = currentLoss;
                double tokensPerSecond = intervalTokens / Math.Max(intervalClock.Elapsed.TotalSeconds, 1e-9);
                intervalTokens = 0;
                intervalClock.Restart();
                long remainingSteps = totalSteps - step - 1;
                Record(new MetricRecord
                {
                    Step = step + 1,
                    Seconds = Seconds(),
                    TokensSeen = tokensSeen,
                    TrainLoss = currentLoss,
                    LearningRate = lr,
                    GradientNorm = gradientNorm,
                    TokensPerSecond = tokensPerSecond,
                });
                observer.OnProgress(new TrainingProgress(step + 1, totalSteps, currentLoss, lr, gradientNorm, tokensPerSecond,
                    TimeSpan.FromSeconds(Seconds()), TimeSpan.FromSeconds(remainingSteps * config.TokensPerStep / tokensPerSecond)));
            }

            bool last = step + 1 == totalSteps;
            if (validation is not null && ((step + 1) % config.EvalInterval == 0 || last))
            {
                Evaluate(step + 1, lr);
            }
            if ((step + 1) % config.EvalInterval == 0 || last)
            {
                LossCurves.Save(MetricRecord.ReadAll(run.MetricsPath), run.LossByStepPlotPath, run.LossByTimePlotPath);
            }
            if ((step + 1) % config.CheckpointInterval == 0 || last)
            {
                lastCheckpoint = SaveCheckpoint(step + 1);
            }
        }
        return Stop(TrainingStopReason.Completed, Math.Max(start.Step, totalSteps), null);
    }
}
