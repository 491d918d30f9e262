using SharpLM.Distributed;
using SharpLM.Model;
using SharpLM.Precision;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>
/// A whole training run from a <see cref="TrainingConfig"/>. <see cref="Create"/> prepares the data and builds
/// the model and AdamW, or restores them from the run's latest checkpoint; <see cref="Train"/> runs the
/// <see cref="Trainer"/>. The two steps are separate so a caller can show each its own way. Every process of a
/// data-parallel <see cref="IProcessGroup"/> creates its own session; rank 0 alone writes to the run directory.
/// </summary>
public sealed class TrainingSession : IDisposable
{
    readonly TransformerLM model;
    readonly AdamW optimizer;
    readonly Generator sampler;
    readonly Device device;
    readonly IProcessGroup group;

    TrainingSession(TrainingConfig config, RunDirectory run, PreparedData data, TransformerLM model, AdamW optimizer,
        Generator sampler, Device device, TrainingStart start, IProcessGroup group, IReadOnlyList<string> notes)
    {
        Notes = notes;
        this.group = group;
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

    /// <summary>What the start had to work around: unreadable checkpoints it skipped, stale temporaries it removed.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Step 0 for a new run, else where the checkpoint left off.</summary>
    public TrainingStart Start { get; }

    /// <summary>The optimizer steps of the whole run, counting the effective batch of all processes.</summary>
    public long TotalSteps => Config.TotalStepsAcross(group.Size);

    /// <summary>Tokens per optimizer step over all processes.</summary>
    public long TokensPerStep => Config.TokensPerStep * group.Size;

    /// <summary>The CPU threads libtorch uses in this process.</summary>
    public int Threads => get_num_threads();

    /// <param name="group">The processes training together; null for one process.</param>
    public static TrainingSession Create(TrainingConfig config, bool resume, IProgress<PreparationProgress>? preparation = null,
        CancellationToken cancellation = default, IProcessGroup? group = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        group ??= SingleProcess.Instance;
        bool leader = group.Rank == 0;
        config.Validate(group.Size);
        var device = Devices.Parse(config.Device);
        var precision = PrecisionChoice.Resolve(config.Precision, device);
        // A resumed run's saved choice keeps the reason it was made for; a flag clears that reason.
        config = config with
        {
            Precision = precision.Precision,
            PrecisionReason = config.Precision == PrecisionSetting.Auto ? precision.Reason : config.PrecisionReason ?? precision.Reason,
        };
        var run = new RunDirectory(config.RunDirectory ?? RunDirectory.DefaultPath());
        // The newest checkpoint that reads back whole; newer unreadable ones are named in the session's notes.
        var resumeFrom = resume
            ? ReadableCheckpoint.Find(run) ?? throw new FileNotFoundException($"nothing to resume: {run.CheckpointDirectory} has no checkpoint.")
            : null;
        if (!resume && File.Exists(run.MetricsPath))
        {
            throw new IOException($"{run.Path} already holds a run; pass --resume to continue it or choose another --run-dir.");
        }
        // A new run that fails before training takes back what it wrote (the tokenizer, the data cache, the
        // directories), so nothing half-made is left to be picked up by the next start.
        var contentsBefore = leader && !resume ? run.Contents() : null;
        try
        {
            return Open(config, resumeFrom, run, device, group, preparation, cancellation);
        }
        catch when (leader && !resume)
        {
            run.RemoveCreatedSince(contentsBefore);
            throw;
        }
    }

    static TrainingSession Open(TrainingConfig config, ReadableCheckpoint? resumeFrom, RunDirectory run, Device device, IProcessGroup group,
        IProgress<PreparationProgress>? preparation, CancellationToken cancellation)
    {
        bool leader = group.Rank == 0;
        // Every rank has looked at the run directory before rank 0 writes anything to it.
        group.Barrier();
        run.EnsureWritable();
        var notes = new List<string>(resumeFrom?.Skipped ?? []);
        if (leader)
        {
            notes.AddRange(run.RemoveStaleTemporaries().Select(path => $"removed {path}, left by a write that was interrupted"));
        }
        Memory.NativeHeap.RetainFreedMemory();
        if (config.Threads > 0)
        {
            set_num_threads(config.Threads);
        }
        else if (group.LocalSize > 1)
        {
            // The ranks on a host share its cores (ProcessorCount already counts only those the launcher bound
            // this rank to); libtorch's MKL would otherwise read the launcher's variables and drop to 1 thread.
            set_num_threads(Math.Max(1, Environment.ProcessorCount / group.LocalSize));
        }

        string? checkpoint = resumeFrom?.Path;
        var metadata = resumeFrom?.Metadata;
        if (metadata is not null)
        {
            int savedWorldSize = (int)metadata.Counters.GetValueOrDefault(Trainer.WorldSizeCounter, 1);
            if (savedWorldSize != group.Size)
            {
                throw new InvalidDataException(
                    $"{checkpoint} was written by {savedWorldSize} process(es) and this job has {group.Size}: each process's batches come from its own " +
                    $"saved random stream, so resume with the same number (e.g. mpirun -np {savedWorldSize} sharplm train --resume ...).");
            }
        }
        // Rank 0 tokenizes into the run directory first; the others then find its cache when the directory is shared
        // and prepare their own copy when it is not.
        PreparedData? prepared = leader ? DataPreparation.Prepare(config, run, preparation, cancellation) : null;
        group.Barrier();
        var data = prepared ?? DataPreparation.Prepare(config, run, null, cancellation);
        TransformerLM? model = null;
        AdamW? optimizer = null;
        Generator? sampler = null;
        try
        {
            // On resume the architecture comes from the checkpoint, whatever the flags say.
            var modelConfig = metadata?.ModelConfig is { } saved
                ? TransformerConfig.FromJson(saved)
                : config.ModelConfig(data.VocabularySize);
            modelConfig.Validate();
            if (data.VocabularySize > modelConfig.VocabSize)
            {
                throw new InvalidDataException(
                    $"the data use {data.VocabularySize} token ids but the model's vocabulary has {modelConfig.VocabSize}.");
            }
            // config.json records what the run resolved, so a resume with more --steps keeps this warm-up.
            config = config with { ContextLength = modelConfig.ContextLength, DFf = modelConfig.DFf, WarmupIters = config.WarmupStepsAcross(group.Size) };
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
            if (group.Size > 1)
            {
                DataConsistency.Require(group, data);
            }
            sampler = new Generator(SamplerSeeds.For(config.Seed, group.Rank));
            var start = TrainingStart.Fresh;
            if (metadata is not null)
            {
                Checkpoint.Load(checkpoint!, model, optimizer);
                if (metadata.RandomStates.TryGetValue(Trainer.SamplerStateKey(group.Rank), out byte[]? state))
                {
                    using var stateTensor = tensor(state);
                    sampler.set_state(stateTensor);
                }
                start = TrainingStart.From(metadata);
                if (leader)
                {
                    ForgetMetricsAfter(run, start.Step);
                }
            }
            else if (leader)
            {
                IO.AtomicFile.WriteAllText(run.ConfigPath, config.ToJson());
            }
            return new TrainingSession(config, run, data, model, optimizer, sampler, device, start, group, notes);
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

    /// <summary>
    /// A run killed after its last checkpoint logged steps that the resumed run takes again: they are dropped, so
    /// metrics.jsonl holds each step once and the curves do not fold back. The file is rewritten even when no step
    /// is dropped, since a kill mid-append leaves a torn last line that the next record would be glued to.
    /// </summary>
    static void ForgetMetricsAfter(RunDirectory run, long step)
    {
        var records = MetricRecord.ReadAll(run.MetricsPath);
        IO.AtomicFile.WriteAllText(run.MetricsPath, string.Concat(records.Where(record => record.Step <= step).Select(record => record.ToJson() + "\n")));
    }

    public TrainingOutcome Train(ITrainingObserver observer, CancellationToken cancellation = default)
    {
        var trainer = new Trainer(Config, model, optimizer, Data.Train, Data.Validation, Run, device, observer, model.Config.ToJson(), group);
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
