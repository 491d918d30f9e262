using System.CommandLine;
using SharpLM.Accounting;
using SharpLM.Cli.Accounting;
using SharpLM.Model;

namespace SharpLM.Cli.Commands;

/// <summary>
/// `sharplm accounting`: parameters, activations, FLOPs and peak memory of a model shape, the largest batch that fits
/// a memory budget and the time a training run takes (handout §3.6 transformer_accounting, §4.3 adamwAccounting).
/// </summary>
internal sealed class AccountingCommand : Command
{
    static readonly Dictionary<string, int> BytesPerElement = new(StringComparer.OrdinalIgnoreCase)
    {
        ["float32"] = 4,
        ["float64"] = 8,
        ["bfloat16"] = 2,
        ["float16"] = 2,
    };

    readonly Option<string> preset = new("--preset")
    {
        Description = $"Model shape: {string.Join(", ", ModelPresets.All.Keys)}.",
        DefaultValueFactory = _ => "tinystories",
    };

    readonly Option<int?> vocabSize = new("--vocab-size") { Description = "vocab_size, overriding the preset's." };
    readonly Option<int?> contextLength = new("--context-length") { Description = "context_length, overriding the preset's." };
    readonly Option<int?> dModel = new("--d-model") { Description = "d_model, overriding the preset's." };
    readonly Option<int?> numLayers = new("--num-layers") { Description = "num_layers, overriding the preset's." };
    readonly Option<int?> numHeads = new("--num-heads") { Description = "num_heads, overriding the preset's." };
    readonly Option<int?> dFf = new("--d-ff") { Description = "d_ff, overriding the preset's [default with --ffn: that FFN's default for d_model]." };
    readonly Option<string?> norm = Choice<NormPlacement>("--norm", "RMSNorm in the blocks");
    readonly Option<bool?> finalNorm = new("--final-norm") { Description = "The RMSNorm before the LM head, true or false." };
    readonly Option<string?> position = Choice<PositionEncoding>("--position", "Position information");
    readonly Option<string?> ffn = Choice<FeedForwardKind>("--ffn", "Feed-forward network");
    readonly Option<bool?> tieEmbeddings = new("--tie-embeddings") { Description = "The LM head shares the token-embedding matrix." };

    readonly Option<string> dtype = new("--dtype")
    {
        Description = $"Element type of every tensor: {string.Join(", ", BytesPerElement.Keys)}.",
        DefaultValueFactory = _ => "float32", // the handout's assumption
    };

    readonly Option<string?> memory = new("--memory")
    {
        Description = "Memory budget; prints the largest batch that fits. GB and MB are powers of 10, GiB and MiB of 2: 80GB, 80GiB, 512MB.",
    };

    readonly Option<int?> batchSize = new("--batch-size")
    {
        Description = "Sequences per step: prints the peak memory at that batch; needed by --steps and --tokens.",
    };

    readonly Option<long?> steps = new("--steps") { Description = "Training steps; prints the training time." };

    readonly Option<long?> tokens = new("--tokens")
    {
        Description = "Training tokens, instead of --steps: as many steps of batch × context tokens as cover them.",
    };

    readonly Option<double> peakTflops = new("--peak-tflops")
    {
        Description = "Hardware peak in TFLOP/s for the training time.",
        DefaultValueFactory = _ => 19.5, // an A100 in float32, as adamwAccounting (d) assumes
    };

    readonly Option<double> mfu = new("--mfu")
    {
        Description = "Model FLOPs utilization, the fraction of the peak achieved, in (0, 1].",
        DefaultValueFactory = _ => 0.5, // adamwAccounting (d)
    };

    public AccountingCommand() : base("accounting", "Count parameters, activations, FLOPs and peak memory of a model shape; predict the largest batch and the training time.")
    {
        Options.Add(preset);
        Options.Add(vocabSize);
        Options.Add(contextLength);
        Options.Add(dModel);
        Options.Add(numLayers);
        Options.Add(numHeads);
        Options.Add(dFf);
        Options.Add(norm);
        Options.Add(finalNorm);
        Options.Add(position);
        Options.Add(ffn);
        Options.Add(tieEmbeddings);
        Options.Add(dtype);
        Options.Add(memory);
        Options.Add(batchSize);
        Options.Add(steps);
        Options.Add(tokens);
        Options.Add(peakTflops);
        Options.Add(mfu);
        SetAction(Run);
    }

    static Option<string?> Choice<T>(string name, string description) where T : struct, Enum
    {
        var option = new Option<string?>(name) { Description = $"{description}: {string.Join(", ", OptionNames.All<T>())}, overriding the preset's." };
        option.AcceptOnlyFromAmong([.. OptionNames.All<T>()]);
        return option;
    }

    int Run(ParseResult parse)
    {
        try
        {
            AccountingReport.Write(parse.InvocationConfiguration.Output, Resolve(parse));
        }
        catch (OverflowException)
        {
            throw new ArgumentException("That shape's counts do not fit in 64-bit integers.");
        }
        return ExitCodes.Success;
    }

    /// <exception cref="ArgumentException">A value is out of range or options contradict each other.</exception>
    /// <exception cref="FormatException">--memory is not a memory size.</exception>
    AccountingRequest Resolve(ParseResult parse)
    {
        string presetName = parse.GetValue(preset)!;
        var presetConfig = ModelPresets.Get(presetName);
        var feedForward = parse.GetValue(ffn) is { } ffnName ? OptionNames.Parse<FeedForwardKind>(ffnName, "--ffn") : presetConfig.Ffn;
        int width = parse.GetValue(dModel) ?? presetConfig.DModel;
        var config = presetConfig with
        {
            VocabSize = parse.GetValue(vocabSize) ?? presetConfig.VocabSize,
            ContextLength = parse.GetValue(contextLength) ?? presetConfig.ContextLength,
            DModel = width,
            NumLayers = parse.GetValue(numLayers) ?? presetConfig.NumLayers,
            NumHeads = parse.GetValue(numHeads) ?? presetConfig.NumHeads,
            // Another FFN than the preset's takes its own default width, as `train` gives it (§7.3: SiLU at 4·d_model).
            DFf = parse.GetValue(dFf) ?? (feedForward == presetConfig.Ffn ? presetConfig.DFf : TransformerConfig.DefaultFeedForwardSize(feedForward, width)),
            Ffn = feedForward,
            Norm = parse.GetValue(norm) is { } normName ? OptionNames.Parse<NormPlacement>(normName, "--norm") : presetConfig.Norm,
            FinalNorm = parse.GetValue(finalNorm) ?? presetConfig.FinalNorm,
            Position = parse.GetValue(position) is { } positionName ? OptionNames.Parse<PositionEncoding>(positionName, "--position") : presetConfig.Position,
            TieEmbeddings = parse.GetValue(tieEmbeddings) ?? presetConfig.TieEmbeddings,
        };
        config.Validate();
        string shapeName = config == presetConfig ? presetName.ToLowerInvariant() : $"{presetName.ToLowerInvariant()} with overrides";

        string dtypeName = parse.GetValue(dtype)!;
        if (!BytesPerElement.TryGetValue(dtypeName, out int bytesPerElement))
        {
            throw new ArgumentException($"Unknown --dtype '{dtypeName}'; expected one of {string.Join(", ", BytesPerElement.Keys)}.");
        }

        string? memoryText = parse.GetValue(memory);
        long? memoryBytes = memoryText is null ? null : MemorySize.Parse(memoryText);

        int? batch = parse.GetValue(batchSize);
        if (batch <= 0)
        {
            throw new ArgumentException(FormattableString.Invariant($"--batch-size must be positive, got {batch}."));
        }
        return new AccountingRequest(
            shapeName, config, dtypeName.ToLowerInvariant(), bytesPerElement, batch, memoryText, memoryBytes, ResolveTraining(parse, config, batch));
    }

    TrainingTime? ResolveTraining(ParseResult parse, TransformerConfig config, int? batch)
    {
        long? stepCount = parse.GetValue(steps);
        long? tokenCount = parse.GetValue(tokens);
        if (stepCount is null && tokenCount is null)
        {
            return null;
        }
        if (stepCount is not null && tokenCount is not null)
        {
            throw new ArgumentException("--steps and --tokens both set the length of training; give one of them.");
        }
        string lengthOption = stepCount is not null ? "--steps" : "--tokens";
        if (batch is not { } batchValue)
        {
            throw new ArgumentException($"{lengthOption} needs --batch-size.");
        }
        long length = stepCount ?? tokenCount!.Value;
        if (length <= 0)
        {
            throw new ArgumentException(FormattableString.Invariant($"{lengthOption} must be positive, got {length}."));
        }
        double peak = parse.GetValue(peakTflops);
        if (!(peak > 0) || double.IsInfinity(peak))
        {
            throw new ArgumentException(FormattableString.Invariant($"--peak-tflops must be positive and finite, got {peak}."));
        }
        double utilization = parse.GetValue(mfu);
        if (!(utilization > 0 && utilization <= 1))
        {
            throw new ArgumentException(FormattableString.Invariant($"--mfu must be in (0, 1], got {utilization}."));
        }
        return stepCount is not null
            ? TrainingTime.ForSteps(config, length, batchValue, peak * 1e12, utilization)
            : TrainingTime.ForTokens(config, length, batchValue, peak * 1e12, utilization);
    }
}
