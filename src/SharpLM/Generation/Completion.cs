using System.Text;
using SharpLM.Tokenization;
using static TorchSharp.torch;

namespace SharpLM.Generation;

/// <summary>Why a completion ended, named as OpenAI's <c>finish_reason</c>.</summary>
public enum FinishReason
{
    /// <summary>The stop token or a stop string.</summary>
    Stop,

    /// <summary>The token budget.</summary>
    Length,
}

/// <summary>
/// One sampled continuation of a <see cref="DecodingSequence"/>: its own random generator (so its text does not
/// depend on what it is batched with), token budget, stop token and strings, and incremental detokenizer.
/// </summary>
public sealed class Completion : IDisposable
{
    readonly GenerationOptions options;
    readonly int? stopId;
    readonly Generator generator;
    readonly IncrementalDetokenizer detokenizer;
    readonly StopStrings stopStrings;
    readonly List<int> generated = [];
    readonly StringBuilder text = new();

    /// <param name="sequence">The context to continue; the completion owns it from here.</param>
    /// <param name="seed">This completion's sampler seed.</param>
    public Completion(DecodingSequence sequence, Tokenizer tokenizer, GenerationOptions options, long seed)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        Sequence = sequence ?? throw new ArgumentNullException(nameof(sequence));
        this.options = options ?? throw new ArgumentNullException(nameof(options));
        stopId = options.StopToken is null ? null : tokenizer.SpecialTokenId(options.StopToken);
        generator = new Generator((ulong)seed);
        detokenizer = new IncrementalDetokenizer(tokenizer);
        stopStrings = new StopStrings(options.StopStrings);
        if (options.MaxTokens == 0)
        {
            Finish = FinishReason.Length;
        }
    }

    public DecodingSequence Sequence { get; }

    public IReadOnlyList<int> TokenIds => generated;

    /// <summary>The text emitted so far (all of it once finished).</summary>
    public string Text => text.ToString();

    /// <summary>Null while the completion still wants tokens.</summary>
    public FinishReason? Finish { get; private set; }

    /// <summary>
    /// Draws the next token from its (vocab) logits and returns the text that became ready (possibly empty).
    /// </summary>
    /// <exception cref="InvalidOperationException">The completion has finished.</exception>
    public string Accept(Tensor logits)
    {
        if (Finish is not null)
        {
            throw new InvalidOperationException("the completion has finished.");
        }
        int next = Sampler.Sample(logits, options.Temperature, options.TopP, generator);
        if (next == stopId && !options.IgnoreEos)
        {
            return End(FinishReason.Stop, "");
        }
        generated.Add(next);
        Sequence.Add(next);
        string piece = stopStrings.Feed(detokenizer.Append(next));
        if (stopStrings.Stopped)
        {
            return End(FinishReason.Stop, piece);
        }
        return generated.Count >= options.MaxTokens ? End(FinishReason.Length, piece) : Emit(piece);
    }

    string End(FinishReason reason, string piece)
    {
        Finish = reason;
        if (!stopStrings.Stopped)
        {
            piece += stopStrings.Feed(detokenizer.Finish());
            piece += stopStrings.Stopped ? "" : stopStrings.Finish();
        }
        return Emit(piece);
    }

    string Emit(string piece)
    {
        text.Append(piece);
        return piece;
    }

    public GenerationResult ToResult() => new(Text, [.. generated], Finish == FinishReason.Stop);

    public void Dispose()
    {
        generator.Dispose();
        Sequence.Dispose();
    }
}
