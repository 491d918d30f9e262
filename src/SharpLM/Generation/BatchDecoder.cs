using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Generation;

/// <summary>
/// Next-token logits for many sequences at once: sequences with the same number of new tokens share one forward
/// pass (their caches may differ in length), so every one-token decode step is one batch, and so are prompts of
/// equal length arriving together; a window slid past the context is a prefill of its own length. Equal prompts are
/// prefilled once. The caller runs it under <c>no_grad</c> and the precision's <see cref="Precision.Autocast"/>.
/// </summary>
public static class BatchDecoder
{
    /// <param name="weights">The model's fused decoding weights, made under the same precision; null to use its own.</param>
    /// <returns>(sequences, vocab) float32 logits of each sequence's next token.</returns>
    public static Tensor NextLogits(TransformerLM model, IReadOnlyList<DecodingSequence> sequences, DecodingWeights? weights = null)
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
        if (inputs.Any(input => input.Length == 0))
        {
            throw new InvalidOperationException("a sequence had no new token to feed; add the sampled token before the next step.");
        }
        // Sequences that start from the same tokens (n choices of one prompt, or clients sending the same prompt) share
        // one prefill: the first of them goes through the model, the others copy its cache and its logits.
        int[] source = [.. Enumerable.Range(0, sequences.Count)];
        for (int i = 0; i < sequences.Count; i++)
        {
            if (sequences[i].Cache.Length == 0 && inputs[i].Length > 1)
            {
                source[i] = Enumerable.Range(0, i).FirstOrDefault(j => source[j] == j && sequences[j].Cache.Length == 0 && inputs[j].AsSpan().SequenceEqual(inputs[i]), i);
            }
        }
        var rows = new Tensor[sequences.Count];
        foreach (var group in Enumerable.Range(0, sequences.Count).Where(i => source[i] == i).GroupBy(i => inputs[i].Length))
        {
            int[] members = [.. group];
            int length = group.Key;
            var ids = tensor([.. members.SelectMany(i => inputs[i])], [members.Length, length], device: device); // (members, length)
            var logits = model.forward(ids, [.. members.Select(i => sequences[i].Cache)], weights).select(1, length - 1); // (members, vocab)
            if (members.Length == sequences.Count)
            {
                // One group (the usual decode step): the rows are already in order.
                return logits.to(ScalarType.Float32).MoveToOuterDisposeScope(); // (sequences, vocab)
            }
            for (int row = 0; row < members.Length; row++)
            {
                rows[members[row]] = logits.select(0, row); // (vocab)
            }
        }
        for (int i = 0; i < sequences.Count; i++)
        {
            if (source[i] != i)
            {
                sequences[i].Cache.CopyFrom(sequences[source[i]].Cache);
                rows[i] = rows[source[i]];
            }
        }
        return stack(rows).to(ScalarType.Float32).MoveToOuterDisposeScope(); // (sequences, vocab)
    }
}
