using System.Diagnostics;
using SharpLM.Model;
using SharpLM.Precision;
using SharpLM.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Generation;

/// <summary>Settings of one generation (§6); sample i of a prompt draws with seed <see cref="Seed"/> + i.</summary>
public sealed record GenerationOptions
{
    /// <summary>Most new tokens to produce.</summary>
    public int MaxTokens { get; init; } = 256;

    /// <summary>Softmax temperature τ (eq. 24); 0 means greedy (argmax).</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Nucleus mass p; 1 samples from the whole distribution.</summary>
    public double TopP { get; init; } = 1.0;

    public long Seed { get; init; } = 42;

    /// <summary>Generation stops after this special token (it is not part of the returned text).</summary>
    public string? StopToken { get; init; } = "<|endoftext|>";

    /// <summary>Keep generating past the stop token (its text joins the output), e.g. to benchmark a fixed length.</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Generation stops before the first of these strings (OpenAI's <c>stop</c>); it is not part of the text.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>The forward passes' precision; fp32 by default, so a seed gives the same text on every machine.</summary>
    public PrecisionSetting Precision { get; init; } = PrecisionSetting.Fp32;

    /// <summary>Checks every value before any work (or output) is done; the exception names the setting and the value.</summary>
    public void Validate()
    {
        if (MaxTokens < 0)
        {
            throw new ArgumentException($"max tokens must be ≥ 0, got {MaxTokens}.");
        }
        if (!(Temperature >= 0))
        {
            throw new ArgumentException($"temperature must be ≥ 0, got {Temperature}.");
        }
        // Checked even for greedy decoding, which ignores it, so that a typo does not pass unnoticed.
        if (!(TopP > 0 && TopP <= 1))
        {
            throw new ArgumentException($"top-p must be in (0, 1], got {TopP}.");
        }
    }
}

/// <summary>What a generation produced.</summary>
public sealed record GenerationResult(string Text, IReadOnlyList<int> TokenIds, bool StoppedAtStopToken);

/// <summary>
/// Tokens through the model and the wall-clock time it took: the prompt's prefill, then the decode steps (the
/// re-prefills of a window slid past the context count as decoding, since each yields one token).
/// </summary>
public sealed record GenerationStats(int PromptTokens, TimeSpan PrefillTime, int DecodedTokens, TimeSpan DecodeTime)
{
    public double PrefillTokensPerSecond => PromptTokens / PrefillTime.TotalSeconds;

    public double DecodeTokensPerSecond => DecodedTokens / DecodeTime.TotalSeconds;
}

/// <summary>Samples of one prompt and how fast they came.</summary>
public sealed record GenerationRun(IReadOnlyList<GenerationResult> Samples, GenerationStats Stats);

/// <summary>
/// Autoregressive decoding from a <see cref="TransformerLM"/> with a <see cref="KeyValueCache"/>: one prefill of the
/// prompt, then one position per token, several samples decoded as one batch.
/// </summary>
public static class TextGenerator
{
    /// <summary>
    /// Continues <paramref name="prompt"/>. <paramref name="onText"/> receives the new text as it becomes
    /// decodable (a multi-byte character split across tokens is held back until complete). When the text
    /// outgrows the context window, the model sees the most recent contextLength tokens.
    /// </summary>
    public static GenerationResult Generate(TransformerLM model, Tokenizer tokenizer, string prompt, GenerationOptions options, Action<string>? onText = null) =>
        GenerateSamples(model, tokenizer, prompt, options, 1, 1, onText is null ? null : (_, piece) => onText(piece)).Samples[0];

    /// <summary>
    /// Draws <paramref name="sampleCount"/> continuations of <paramref name="prompt"/>, decoding up to
    /// <paramref name="batchSize"/> of them at once. Each sample has its own generator, so the texts do not depend
    /// on the batch size. <paramref name="onText"/> receives (sample index, new text).
    /// </summary>
    public static GenerationRun GenerateSamples(
        TransformerLM model, Tokenizer tokenizer, string prompt, GenerationOptions options, int sampleCount, int batchSize, Action<int, string>? onText = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        options.Validate();
        if (tokenizer.VocabularySize > model.Config.VocabSize)
        {
            throw new ArgumentException(
                $"the tokenizer has {tokenizer.VocabularySize} tokens but the model only {model.Config.VocabSize}.", nameof(tokenizer));
        }
        var device = model.TokenEmbeddings.Weight.device;
        using var noGrad = no_grad();
        using var autocast = Autocast.Enter(PrecisionChoice.Resolve(options.Precision, device).Precision);
        model.eval();
        using var weights = new DecodingWeights(model);

        using var prefilled = new DecodingSequence(model.Config, PromptTokens(tokenizer, prompt, options));
        int promptTokens = prefilled.PendingCount;
        var clock = Stopwatch.StartNew();
        using var promptLogits = BatchDecoder.NextLogits(model, [prefilled], weights); // (1, vocab)
        var prefillTime = clock.Elapsed;

        var results = new GenerationResult[sampleCount];
        int decoded = 0;
        clock.Restart();
        for (int first = 0; first < sampleCount; first += batchSize)
        {
            var batch = Enumerable.Range(first, Math.Min(batchSize, sampleCount - first))
                .Select(sample => new Completion(prefilled.Fork(), tokenizer, options, options.Seed + sample)).ToArray();
            try
            {
                decoded += Decode(model, weights, batch, promptLogits[0], first, onText);
                for (int i = 0; i < batch.Length; i++)
                {
                    results[first + i] = batch[i].ToResult();
                }
            }
            finally
            {
                foreach (var completion in batch)
                {
                    completion.Dispose();
                }
            }
        }
        return new GenerationRun(results, new GenerationStats(promptTokens, prefillTime, decoded, clock.Elapsed));
    }

    /// <summary>Runs a batch of completions of one prompt to their ends; returns how many tokens went through decode steps.</summary>
    static int Decode(TransformerLM model, DecodingWeights weights, Completion[] batch, Tensor promptLogits, int firstIndex, Action<int, string>? onText)
    {
        void Accept(int i, Tensor logits)
        {
            string piece = batch[i].Accept(logits);
            if (piece.Length > 0)
            {
                onText?.Invoke(firstIndex + i, piece);
            }
        }
        for (int i = 0; i < batch.Length; i++)
        {
            if (batch[i].Finish is null)
            {
                Accept(i, promptLogits);
            }
        }
        int decoded = 0;
        while (Enumerable.Range(0, batch.Length).Where(i => batch[i].Finish is null).ToArray() is { Length: > 0 } active)
        {
            using var scope = NewDisposeScope();
            var logits = BatchDecoder.NextLogits(model, [.. active.Select(i => batch[i].Sequence)], weights); // (active, vocab)
            decoded += active.Length;
            for (int row = 0; row < active.Length; row++)
            {
                Accept(active[row], logits[row]);
            }
        }
        return decoded;
    }

    /// <summary>The prompt's tokens; an empty prompt starts a new document, as after the separator in training data.</summary>
    static int[] PromptTokens(Tokenizer tokenizer, string prompt, GenerationOptions options)
    {
        var ids = tokenizer.Encode(prompt);
        return ids.Length > 0 ? ids : [(options.StopToken is null ? null : tokenizer.SpecialTokenId(options.StopToken)) ?? 0];
    }
}
