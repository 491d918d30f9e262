using SharpLM.Model;
using SharpLM.Precision;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>
/// A whole training run from a <see cref="TrainingConfig"/>. <see cref="Create"/> prepares the data and builds
/// the model and AdamW, or restores them from the run's latest checkpoint; <see cref="Train"/> runs the
/// <see cref="Trainer"/>. The two steps are separate so a caller can show each its own way.
/// </summary>
public sealed class TrainingSession : IDisposable
{
    readonly TransformerLM model;
    readonly AdamW optimizer;
    readonly Generator sampler;
    readonly Device device;

    TrainingSession(TrainingConfig config, RunDirectory run, PreparedData data, TransformerLM model, AdamW optimizer,
        Generator sampler, Device device, TrainingStart start)
    {
        Config = config;
        Run = run;
        Data = data;
        this.model = model;
        this.optimizer = optimizer;
        this.sampler = sampler;
        this.device = device;
        Start = start;
    }

    public TrainingConfig Config { get; }
    public RunDirectory Run { get; }
    public PreparedData Data { get; }
    public TransformerConfig ModelConfig => model.Config;
    public long ParameterCount => model.ParameterCount;

    /// <summary>Step 0 for a new run, else where the checkpoint left off.</summary>
    public TrainingStart Start { get; }

    public static TrainingSession Create(TrainingConfig config, bool resume, IProgress<PreparationProgress>? preparation = null,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var device = Devices.Parse(config.Device);
        var precision = PrecisionChoice.Resolve(config.Precision, device);
        // A resumed run's saved choice keeps the reason it was made for; a flag clears that reason.
        config = config with
        {
            Precision = precision.Precision,
            PrecisionReason = config.Precision == PrecisionSetting.Auto ? precision.Reason : config.PrecisionReason ?? precision.Reason,
        };
        var run = new RunDirectory(config.RunDirectory ?? RunDirectory.DefaultPath());
        string? checkpoint = run.LatestCheckpoint();
        if (resume && checkpoint is null)
        {
            throw new FileNotFoundException($"nothing to resume: {run.CheckpointDirectory} has no checkpoint.");
        }
        if (!resume && File.Exists(run.MetricsPath))
        {
            throw new IOException($"{run.Path} already holds a run; pass --resume to continue it or choose another --run-dir.");
        }
        run.EnsureWritable();
        Memory.NativeHeap.RetainFreedMemory();
        if (config.Threads > 0)
        {
            set_num_threads(config.Threads);
        }

        var metadata = resume ? Checkpoint.ReadMetadata(checkpoint!) : null;
        var data = DataPreparation.Prepare(config, run, preparation, cancellation);
        TransformerLM? model = null;
        AdamW? optimizer = null;
        Generator? sampler = null;
        try
        {
            // On resume the architecture comes from the checkpoint, whatever the flags say.
            var modelConfig = metadata?.ModelConfig is { } saved
                ? TransformerConfig.FromJson(saved)
                : new TransformerConfig(data.VocabularySize, config.ContextLength, config.DModel, config.NumLayers, config.NumHeads, config.DFf, config.RopeTheta);
            modelConfig.Validate();
            if (data.VocabularySize > modelConfig.VocabSize)
            {
                throw new InvalidDataException(
                    $"the data use {data.VocabularySize} token ids but the model's vocabulary has {modelConfig.VocabSize}.");
            }
            config = config with { ContextLength = modelConfig.ContextLength };
            foreach (var dataset in new[] { data.Train, data.Validation }.OfType<Data.TokenDataset>())
            {
                if (dataset.Count <= config.ContextLength)
                {
                    throw new ArgumentException(
                        $"context length {config.ContextLength} needs at least {config.ContextLength + 1} tokens, but {dataset.Path} has {dataset.Count}.");
                }
            }

            using (var init = new Generator((ulong)config.Seed))
            {
                model = new TransformerLM(modelConfig, device, generator: init);
            }
            optimizer = new AdamW(model.parameters(), config.MaxLearningRate, config.Beta1, config.Beta2, config.Eps, config.WeightDecay);
            sampler = new Generator((ulong)config.Seed + 1);
            var start = TrainingStart.Fresh;
            if (metadata is not null)
            {
                Checkpoint.Load(checkpoint!, model, optimizer);
                if (metadata.RandomStates.TryGetValue(Trainer.SamplerState, out byte[]? state))
                {
                    using var stateTensor = tensor(state);
                    sampler.set_state(stateTensor);
                }
                start = TrainingStart.From(metadata);
            }
            else
            {
                IO.AtomicFile.WriteAllText(run.ConfigPath, config.ToJson());
            }
            return new TrainingSession(config, run, data, model, optimizer, sampler, device, start);
        }
        catch
        {
            sampler?.Dispose();
            optimizer?.Dispose();
            model?.Dispose();
            data.Dispose();
            throw;
        }
    }

    public TrainingOutcome Train(ITrainingObserver observer, CancellationToken cancellation = default)
    {
        var trainer = new Trainer(Config, model, optimizer, Data.Train, Data.Validation, Run, device, observer, model.Config.ToJson());
        return trainer.Run(Start, sampler, cancellation);
    }

    public void Dispose()
    {
        sampler.Dispose();
        optimizer.Dispose();
        model.Dispose();
        Data.Dispose();
    }
}
