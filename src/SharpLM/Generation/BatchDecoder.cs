using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Generation;

/// <summary>
/// Next-token logits for many sequences at once: those with one new token share one batched decode step (their
/// caches may differ in length), those with more (a prompt, a window slid past the context) are prefilled one
/// by one. The caller runs it under <c>no_grad</c> and the precision's <see cref="Precision.Autocast"/>.
/// </summary>
public static class BatchDecoder
{
    /// <returns>(sequences, vocab) float32 logits of each sequence's next token.</returns>
    public static Tensor NextLogits(TransformerLM model, IReadOnlyList<DecodingSequence> sequences)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Count == 0)
        {
            throw new ArgumentException("no sequences to decode.", nameof(sequences));
        }
        var device = model.TokenEmbeddings.Weight.device;
        using var scope = NewDisposeScope();
        var inputs = sequences.Select(sequence => sequence.TakePending()).ToArray();
        var rows = new Tensor[sequences.Count];
        var stepping = Enumerable.Range(0, sequences.Count).Where(i => inputs[i].Length == 1).ToArray();
        if (stepping.Length > 0)
        {
            var ids = tensor(stepping.Select(i => inputs[i][0]).ToArray(), device: device).unsqueeze(1); // (stepping, 1)
            var logits = model.forward(ids, [.. stepping.Select(i => sequences[i].Cache)]); // (stepping, 1, vocab)
            if (stepping.Length == sequences.Count)
            {
                // Every sequence stepped (the usual decode step): the rows are already in order.
                return logits.select(1, 0).to(ScalarType.Float32).MoveToOuterDisposeScope(); // (sequences, vocab)
            }
            for (int row = 0; row < stepping.Length; row++)
            {
                rows[stepping[row]] = logits[row, -1];
            }
        }
        foreach (int i in Enumerable.Range(0, sequences.Count).Where(i => inputs[i].Length > 1))
        {
            var ids = tensor(inputs[i], device: device).unsqueeze(0); // (1, pending)
            rows[i] = model.forward(ids, [sequences[i].Cache])[0, -1]; // (vocab)
        }
        if (rows.Any(row => row is null))
        {
            throw new InvalidOperationException("a sequence had no new token to feed; add the sampled token before the next step.");
        }
        return stack(rows).to(ScalarType.Float32).MoveToOuterDisposeScope(); // (sequences, vocab)
    }
}
