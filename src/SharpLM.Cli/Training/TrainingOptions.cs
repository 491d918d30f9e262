using System.CommandLine;
using SharpLM.Model;
using SharpLM.Training;

namespace SharpLM.Cli.Training;

/// <summary>
/// The command-line flags of <see cref="TrainingConfig"/>: each flag, when given, overrides the value from the
/// defaults and the --config file. Defaults shown in --help come from TrainingConfig itself, so they live in one place.
/// </summary>
internal sealed class TrainingOptions
{
    static readonly TrainingConfig Defaults = new();
    readonly List<(Option Option, Func<TrainingConfig, ParseResult, TrainingConfig> Apply)> overrides = [];

    public Option<string> ConfigFile { get; } = new("--config") { Description = "JSON file of settings (snake_case keys, as written to config.json); flags override it." };

    public TrainingOptions()
    {
        Add<string>("--train", "Training data: raw text, or a token file from `sharplm tokenize`.", (c, v) => c with { Train = v });
        Add<string>("--val", "Validation data, as --train.", (c, v) => c with { Val = v });
        Add<string>("--tokenizer", "Tokenizer directory; trained on --train and saved there if it does not exist (default: <run-dir>/tokenizer).", (c, v) => c with { Tokenizer = v });
        Add<int>("--vocab-size", $"Vocabulary size of a newly trained tokenizer [default: {Defaults.VocabSize}].", (c, v) => c with { VocabSize = v });
        Add<string[]>("--special", "Special tokens of a newly trained tokenizer [default: <|endoftext|>].", (c, v) => c with { SpecialTokens = v });
        Add<int>("--context-length", $"Tokens per training sequence [default: {Defaults.ContextLength}].", (c, v) => c with { ContextLength = v });
        Add<int>("--d-model", $"Model width [default: {Defaults.DModel}].", (c, v) => c with { DModel = v });
        Add<int>("--num-layers", $"Transformer blocks [default: {Defaults.NumLayers}].", (c, v) => c with { NumLayers = v });
        Add<int>("--num-heads", $"Attention heads [default: {Defaults.NumHeads}].", (c, v) => c with { NumHeads = v });
        Add<int>("--d-ff", "Feed-forward width [default: for swiglu 8/3·d_model to the nearest multiple of 64 (1344 at d_model 512), for silu 4·d_model].", (c, v) => c with { DFf = v });
        Add<double>("--rope-theta", $"RoPE Θ [default: {Defaults.RopeTheta}].", (c, v) => c with { RopeTheta = v });
        AddChoice<NormPlacement>("--norm", "RMSNorm in the blocks: pre (x + f(norm(x))), post (norm(x + f(x))) or none", Defaults.Norm, (c, v) => c with { Norm = v });
        Add<bool>("--final-norm", $"RMSNorm before the LM head, true or false (the handout's layer_norm_ablation: --norm none --final-norm false) [default: {Defaults.FinalNorm.ToString().ToLowerInvariant()}].", (c, v) => c with { FinalNorm = v });
        AddChoice<PositionEncoding>("--position", "Position information: rope or nope (none at all)", Defaults.Position, (c, v) => c with { Position = v });
        AddChoice<FeedForwardKind>("--ffn", "Feed-forward network: swiglu (W2(SiLU(W1 x) ⊙ W3 x)) or silu (W2 SiLU(W1 x))", Defaults.Ffn, (c, v) => c with { Ffn = v });
        Add<bool>("--tie-embeddings", "The LM head shares the token-embedding matrix (initialised with std 1/√d_model).", (c, v) => c with { TieEmbeddings = v });
        Add<double>("--max-lr", $"Peak learning rate αmax [default: {Defaults.MaxLearningRate}].", (c, v) => c with { MaxLearningRate = v });
        Add<double>("--min-lr", $"Final learning rate αmin [default: {Defaults.MinLearningRate}].", (c, v) => c with { MinLearningRate = v });
        Add<long>("--warmup-iters", $"Warm-up steps Tw [default: {TrainingConfig.DefaultWarmupIters}, or a tenth of the cosine cycle when that is less].", (c, v) => c with { WarmupIters = v });
        Add<long>("--cosine-cycle-iters", "Step Tc where the cosine reaches αmin [default: the last step].", (c, v) => c with { CosineCycleIters = v });
        Add<double>("--beta1", $"AdamW β1 [default: {Defaults.Beta1}].", (c, v) => c with { Beta1 = v });
        Add<double>("--beta2", $"AdamW β2 [default: {Defaults.Beta2}].", (c, v) => c with { Beta2 = v });
        Add<double>("--eps", $"AdamW ε [default: {Defaults.Eps}].", (c, v) => c with { Eps = v });
        Add<double>("--weight-decay", $"AdamW λ [default: {Defaults.WeightDecay}].", (c, v) => c with { WeightDecay = v });
        Add<double>("--grad-clip", $"Maximum gradient ℓ2 norm; 0 disables clipping [default: {Defaults.GradientClip}].", (c, v) => c with { GradientClip = v == 0 ? null : v });
        Add<int>("--batch-size", $"Sequences per step [default: {Defaults.BatchSize}].", (c, v) => c with { BatchSize = v });
        Add<long>("--steps", $"Optimizer steps [default: {Defaults.Steps}].", (c, v) => c with { Steps = v });
        Add<long>("--token-budget", "Tokens to train on (sets the steps).", (c, v) => c with { TokenBudget = v });
        Add<string>("--time-budget", "Training time, e.g. 10m or 1h30m: the run stops when its training steps have taken that long (across resumes; evaluation does not count) and the schedule runs on that clock; --steps is ignored.",
            (c, v) => c with { TimeBudget = Duration.Parse(v) });
        Add<string>("--warmup-time", "Warm-up of a --time-budget run, e.g. 30s [default: 5% of the budget].", (c, v) => c with { WarmupTime = Duration.Parse(v) });
        Add<int>("--log-interval", $"Steps between progress reports [default: {Defaults.LogInterval}].", (c, v) => c with { LogInterval = v });
        Add<int>("--eval-interval", $"Steps between validation passes [default: {Defaults.EvalInterval}].", (c, v) => c with { EvalInterval = v });
        Add<int>("--eval-batches", $"Validation batches per pass; 0 means all [default: {Defaults.EvalBatches}].", (c, v) => c with { EvalBatches = v == 0 ? null : v });
        Add<int>("--checkpoint-interval", $"Steps between checkpoints [default: {Defaults.CheckpointInterval}].", (c, v) => c with { CheckpointInterval = v });
        Add<string>("--run-dir", "Directory of this run [default: runs/<timestamp>].", (c, v) => c with { RunDirectory = v });
        Add<long>("--seed", $"Seed of initialisation and batch sampling [default: {Defaults.Seed}].", (c, v) => c with { Seed = v });
        Add<string>("--device", $"cpu, cuda or cuda:N [default: {Defaults.Device}].", (c, v) => c with { Device = v });
        Add<int>("--threads", "CPU threads for libtorch [default: all cores].", (c, v) => c with { Threads = v });
        Add(PrecisionOption.Create("fp32, bf16 (mixed precision: bf16 matmuls, float32 weights, gradients and statistics) or auto: bf16 where the device runs it fast",
            Defaults.Precision), (c, v) => c with { Precision = PrecisionOption.Parse(v), PrecisionReason = null });
        Add<int>("--grad-accum-steps", $"Micro-batches of --batch-size per optimizer step [default: {Defaults.GradAccumSteps}].", (c, v) => c with { GradAccumSteps = v });
    }

    /// <summary>Adds --config and the flags to <paramref name="command"/>, but those it names in <paramref name="except"/>.</summary>
    public void AddTo(Command command, params string[] except)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(ConfigFile);
        foreach (var (option, _) in overrides.Where(o => !except.Contains(o.Option.Name)))
        {
            command.Options.Add(option);
        }
    }

    /// <summary>Applies the --config file and then every flag the user gave to <paramref name="baseline"/>.</summary>
    public TrainingConfig Resolve(ParseResult parse, TrainingConfig baseline)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var config = parse.GetValue(ConfigFile) is { } file ? Merge(baseline, TrainingConfig.Load(file)) : baseline;
        foreach (var (option, apply) in overrides)
        {
            if (parse.GetResult(option) is { Implicit: false })
            {
                config = apply(config, parse);
            }
        }
        return config;
    }

    /// <summary>A config file replaces the baseline wholesale: its missing keys take TrainingConfig's defaults.</summary>
    static TrainingConfig Merge(TrainingConfig baseline, TrainingConfig fromFile) =>
        fromFile with { RunDirectory = fromFile.RunDirectory ?? baseline.RunDirectory };

    void Add<T>(string name, string description, Func<TrainingConfig, T, TrainingConfig> apply)
    {
        var option = new Option<T>(name) { Description = description };
        if (typeof(T) == typeof(string[]))
        {
            option.AllowMultipleArgumentsPerToken = true;
        }
        Add(option, apply);
    }

    /// <summary>An architecture option spelled as in config files (<see cref="OptionNames"/>); other values are a usage error.</summary>
    void AddChoice<T>(string name, string description, T defaultValue, Func<TrainingConfig, T, TrainingConfig> apply) where T : struct, Enum
    {
        var option = new Option<string>(name) { Description = $"{description} [default: {OptionNames.Of(defaultValue)}]." };
        option.AcceptOnlyFromAmong([.. OptionNames.All<T>()]);
        Add(option, (c, v) => apply(c, OptionNames.Parse<T>(v, name)));
    }

    void Add<T>(Option<T> option, Func<TrainingConfig, T, TrainingConfig> apply) =>
        overrides.Add((option, (config, parse) => apply(config, parse.GetValue(option)!)));
}
