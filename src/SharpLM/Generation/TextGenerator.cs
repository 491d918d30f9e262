using SharpLM.Model;
using SharpLM.Precision;
using SharpLM.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Generation;

/// <summary>Settings of one generation (§6).</summary>
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

/// <summary>Autoregressive decoding from a <see cref="TransformerLM"/>: one forward pass per token.</summary>
public static class TextGenerator
{
    /// <summary>
    /// Continues <paramref name="prompt"/>. <paramref name="onText"/> receives the new text as it becomes
    /// decodable (a multi-byte character split across tokens is held back until complete). When the text
    /// outgrows the context window, the model sees the most recent contextLength tokens.
    /// </summary>
    public static GenerationResult Generate(TransformerLM model, Tokenizer tokenizer, string prompt, GenerationOptions options, Action<string>? onText = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (tokenizer.VocabularySize > model.Config.VocabSize)
        {
            throw new ArgumentException(
                $"the tokenizer has {tokenizer.VocabularySize} tokens but the model only {model.Config.VocabSize}.", nameof(tokenizer));
        }
        int? stopId = options.StopToken is null ? null : tokenizer.SpecialTokenId(options.StopToken);
        var context = tokenizer.Encode(prompt).ToList();
        if (context.Count == 0)
        {
            // An empty prompt starts a new document, as after the separator in training data.
            context.Add(stopId ?? 0);
        }
        var device = model.parameters().First().device;
        var generated = new List<int>();
        int emitted = 0;
        bool stopped = false;
        using var generator = new Generator((ulong)options.Seed);
        using var noGrad = no_grad();
        using var autocast = Autocast.Enter(PrecisionChoice.Resolve(options.Precision, device).Precision);
        model.eval();

        for (int i = 0; i < options.MaxTokens; i++)
        {
            int next;
            using (var scope = NewDisposeScope())
            {
                int window = Math.Min(context.Count, model.Config.ContextLength);
                var input = tensor(context.GetRange(context.Count - window, window).Select(id => (long)id).ToArray(), dtype: ScalarType.Int64)
                    .to(device).unsqueeze(0);                                 // (1, window)
                var logits = model.call(input)[0, -1];                        // (vocab)
                next = Sampler.Sample(logits, options.Temperature, options.TopP, generator);
            }
            if (next == stopId)
            {
                stopped = true;
                break;
            }
            context.Add(next);
            generated.Add(next);
            string text = tokenizer.Decode(generated);
            // A trailing U+FFFD may be half a character whose remaining bytes are still to come.
            int ready = text.EndsWith('\uFFFD') ? text.TrimEnd('\uFFFD').Length : text.Length;
            if (ready > emitted)
            {
                onText?.Invoke(text[emitted..ready]);
                emitted = ready;
            }
        }
        string final = tokenizer.Decode(generated);
        if (final.Length > emitted)
        {
            onText?.Invoke(final[emitted..]);
        }
        return new GenerationResult(final, generated, stopped);
    }
}
