using System.Text.Json;
using System.Text.Json.Serialization;
using SharpLM.Model;
using SharpLM.Precision;

namespace SharpLM.Training;

/// <summary>
/// Every setting of a training run, with its default in one place. A JSON file is applied first, then
/// command-line flags; an unknown key is an error. The resolved config is saved in the run directory and in
/// every checkpoint. JSON keys are snake_case, as in the handout.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record TrainingConfig
{
    static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower), new Duration.JsonConverter() },
    };

    // Data.
    /// <summary>Training data: a token file (with its .json sidecar) or raw text to tokenise.</summary>
    public string? Train { get; init; }

    /// <summary>Validation data, as <see cref="Train"/>; without it the run reports training loss only.</summary>
    public string? Val { get; init; }

    /// <summary>Tokenizer directory (vocab.json + merges.txt); trained from the training text when it does not exist.</summary>
    public string? Tokenizer { get; init; }

    /// <summary>Vocabulary size when a tokenizer has to be trained.</summary>
    public int VocabSize { get; init; } = 10_000;

    /// <summary>Special tokens of a newly trained tokenizer.</summary>
    public IReadOnlyList<string> SpecialTokens { get; init; } = ["<|endoftext|>"];

    // Model shape (the handout's TinyStories model, §7.2).
    public int ContextLength { get; init; } = 256;
    public int DModel { get; init; } = 512;
    public int NumLayers { get; init; } = 4;
    public int NumHeads { get; init; } = 16;

    /// <summary>Feed-forward width; null takes the FFN's default for d_model (1344 for SwiGLU at 512, 4·d_model for SiLU).</summary>
    public int? DFf { get; init; }

    public double RopeTheta { get; init; } = 10_000;

    // Architecture options (§7.3, §7.5); the defaults are the handout's model.
    /// <summary>RMSNorm placement in the blocks: pre (eq. 15), post, or none.</summary>
    public NormPlacement Norm { get; init; } = NormPlacement.Pre;

    /// <summary>The RMSNorm before the LM head; independent of <see cref="Norm"/> (the handout's "remove all" is norm none without it).</summary>
    public bool FinalNorm { get; init; } = true;

    public PositionEncoding Position { get; init; } = PositionEncoding.Rope;
    public FeedForwardKind Ffn { get; init; } = FeedForwardKind.Swiglu;

    /// <summary>The LM head shares the token-embedding matrix.</summary>
    public bool TieEmbeddings { get; init; }

    // Optimisation: AdamW (§4.3) under a cosine schedule with warm-up (§4.4), gradient clipping (§4.5).
    public double MaxLearningRate { get; init; } = 1e-3;
    public double MinLearningRate { get; init; } = 1e-4;

    /// <summary>Warm-up iterations Tw; null takes <see cref="DefaultWarmupIters"/> or a tenth of the cycle, whichever is less.</summary>
    public long? WarmupIters { get; init; }

    /// <summary>The warm-up of a run long enough for it (≥ 1,000 steps of cosine cycle).</summary>
    public const long DefaultWarmupIters = 100;

    /// <summary>
    /// Tw as used by the schedule of a run on <paramref name="processes"/> data-parallel processes: a run of 50 steps
    /// that does not say otherwise warms up over 5, and a token budget gives several processes fewer steps.
    /// </summary>
    public long WarmupStepsAcross(int processes) => WarmupIters ?? Math.Min(DefaultWarmupIters, CycleItersAcross(processes) / 10);

    /// <summary>Iteration Tc at which the cosine reaches the minimum; null means the last step.</summary>
    public long? CosineCycleIters { get; init; }

    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    public double Eps { get; init; } = 1e-8;
    public double WeightDecay { get; init; } = 0.1;

    /// <summary>Maximum global ℓ2 norm of the gradients; null disables clipping.</summary>
    public double? GradientClip { get; init; } = 1.0;

    // Length of the run.
    /// <summary>Sequences per micro-batch; an optimizer step sees <see cref="GradAccumSteps"/> of them.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Micro-batches whose gradients are summed (each loss scaled by 1/K) before one optimizer step.</summary>
    public int GradAccumSteps { get; init; } = 1;

    /// <summary>Optimizer steps; ignored when <see cref="TokenBudget"/> is set.</summary>
    public long Steps { get; init; } = 5_000;

    /// <summary>Tokens to train on; sets the steps to ⌈budget / (batch · context)⌉.</summary>
    public long? TokenBudget { get; init; }

    /// <summary>
    /// Training time (§7.5): the run stops once its training steps have taken this much wall-clock time (counted
    /// across resumes; evaluation and checkpoints do not count), and the schedule's warm-up and cosine run on that
    /// clock instead of the step; <see cref="Steps"/> is ignored.
    /// </summary>
    public TimeSpan? TimeBudget { get; init; }

    /// <summary>Warm-up of a <see cref="TimeBudget"/> run; null means 5% of the budget.</summary>
    public TimeSpan? WarmupTime { get; init; }

    /// <summary>The warm-up of a <see cref="TimeBudget"/> run as the schedule uses it.</summary>
    internal TimeSpan WarmupTimeOrDefault => WarmupTime ?? (TimeBudget ?? TimeSpan.Zero) * 0.05;

    // Reporting and checkpoints.
    /// <summary>Steps between console and metrics lines (the loss is read from the device only then).</summary>
    public int LogInterval { get; init; } = 10;

    /// <summary>Steps between validation passes (and loss-curve plots).</summary>
    public int EvalInterval { get; init; } = 250;

    /// <summary>Cap on validation batches per pass; null evaluates the whole validation set.</summary>
    public int? EvalBatches { get; init; } = 50;

    /// <summary>Steps between checkpoints; one is always written at the end.</summary>
    public int CheckpointInterval { get; init; } = 1_000;

    /// <summary>Where the run's config, metrics, checkpoints and plots go; default runs/&lt;timestamp&gt;.</summary>
    public string? RunDirectory { get; init; }

    // Environment.
    public long Seed { get; init; } = 42;
    public string Device { get; init; } = "cpu";

    /// <summary>CPU threads for libtorch; 0 keeps libtorch's default (all cores).</summary>
    public int Threads { get; init; }

    /// <summary>
    /// fp32, bf16 mixed precision, or auto (bf16 where the device runs it fast). A run's config.json holds the
    /// resolved value, so a resumed run keeps it unless a flag says otherwise.
    /// </summary>
    public PrecisionSetting Precision { get; init; } = PrecisionSetting.Auto;

    /// <summary>Why <see cref="Precision"/> holds its value, as the session resolved it; informational.</summary>
    public string? PrecisionReason { get; init; }

    /// <summary>The number of optimizer steps the run takes.</summary>
    public long TotalSteps => TotalStepsAcross(1);

    /// <summary>The optimizer steps of a run whose every step takes <see cref="TokensPerStep"/> on each of <paramref name="processes"/> data-parallel processes.</summary>
    public long TotalStepsAcross(int processes)
    {
        long tokensPerStep = TokensPerStep * processes;
        return TokenBudget is { } budget ? (budget + tokensPerStep - 1) / tokensPerStep : Steps;
    }

    /// <summary>Tokens per optimizer step: the effective batch (micro-batch × accumulation steps) × context.</summary>
    public long TokensPerStep => (long)BatchSize * GradAccumSteps * ContextLength;

    /// <summary>Checks every value; the exception names the setting and the value.</summary>
    public void Validate() => Validate(1);

    /// <summary>Checks every value for a run on <paramref name="processes"/> data-parallel processes (the schedule's length depends on it).</summary>
    public void Validate(int processes)
    {
        static void Require(bool condition, string message)
        {
            if (!condition)
            {
                throw new ArgumentException(message);
            }
        }
        Require(VocabSize >= 256 + SpecialTokens.Count, $"vocab_size must be at least 256 + {SpecialTokens.Count} special tokens, got {VocabSize}.");
        Require(ContextLength >= 1, $"context_length must be ≥ 1, got {ContextLength}.");
        Require(BatchSize >= 1, $"batch_size must be ≥ 1, got {BatchSize}.");
        Require(GradAccumSteps >= 1, $"grad_accum_steps must be ≥ 1, got {GradAccumSteps}.");
        Require(Enum.IsDefined(Precision), $"precision must be auto, fp32 or bf16, got {Precision}.");
        Require(TokenBudget is null ? Steps >= 1 : TokenBudget >= 1, TokenBudget is null ? $"steps must be ≥ 1, got {Steps}." : $"token_budget must be ≥ 1, got {TokenBudget}.");
        Require(MaxLearningRate >= 0, $"max_learning_rate must be ≥ 0, got {MaxLearningRate}.");
        Require(MinLearningRate >= 0 && MinLearningRate <= MaxLearningRate, $"min_learning_rate must be in [0, max_learning_rate = {MaxLearningRate}], got {MinLearningRate}.");
        long warmup = WarmupStepsAcross(processes), cycle = CycleItersAcross(processes);
        Require(warmup >= 0, $"warmup_iters must be ≥ 0, got {warmup}.");
        Require(TimeBudget is not null || warmup <= cycle,
            $"warmup_iters ({warmup}) must not exceed cosine_cycle_iters ({cycle}{(processes > 1 && CosineCycleIters is null ? $": the steps of the token budget across {processes} processes" : "")}).");
        Require(TimeBudget is null || TokenBudget is null, "token_budget and time_budget both set the length of the run: give one.");
        Require(TimeBudget is null or { Ticks: > 0 } && WarmupTime is null or { Ticks: >= 0 }, "time_budget and warmup_time must be positive.");
        Require(WarmupTime is null || (TimeBudget is { } budget && WarmupTime <= budget),
            $"warmup_time ({Format(WarmupTime)}) needs a time_budget at least as long, got {Format(TimeBudget)}.");
        Require(GradientClip is null or > 0, $"gradient_clip must be > 0, got {GradientClip}.");
        Require(LogInterval >= 1, $"log_interval must be ≥ 1, got {LogInterval}.");
        Require(EvalInterval >= 1, $"eval_interval must be ≥ 1, got {EvalInterval}.");
        Require(EvalBatches is null or >= 1, $"eval_batches must be ≥ 1, got {EvalBatches}.");
        Require(CheckpointInterval >= 1, $"checkpoint_interval must be ≥ 1, got {CheckpointInterval}.");
        Require(Threads >= 0, $"threads must be ≥ 0, got {Threads}.");
    }

    static string Format(TimeSpan? duration) => duration is { } value ? Duration.Format(value) : "none";

    /// <summary>The architecture these settings describe, for a vocabulary of <paramref name="vocabularySize"/> tokens.</summary>
    public TransformerConfig ModelConfig(int vocabularySize) => new(
        vocabularySize, ContextLength, DModel, NumLayers, NumHeads, DFf ?? TransformerConfig.DefaultFeedForwardSize(Ffn, DModel), RopeTheta,
        Norm: Norm, FinalNorm: FinalNorm, Position: Position, Ffn: Ffn, TieEmbeddings: TieEmbeddings);

    /// <summary>Tc as used by the schedule of one process.</summary>
    public long CycleIters => CycleItersAcross(1);

    /// <summary>Tc of a run on <paramref name="processes"/> data-parallel processes.</summary>
    public long CycleItersAcross(int processes) => CosineCycleIters ?? TotalStepsAcross(processes);

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <exception cref="JsonException">Malformed JSON or an unknown key (named in the message).</exception>
    public static TrainingConfig FromJson(string json) =>
        JsonSerializer.Deserialize<TrainingConfig>(json, JsonOptions) ?? throw new JsonException("a training config must be a JSON object, got null.");

    public static TrainingConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"config file not found: {path}", path);
        }
        try
        {
            return FromJson(File.ReadAllText(path));
        }
        catch (JsonException exception)
        {
            throw new JsonException($"{path}: {exception.Message}", exception);
        }
    }
}
