using SharpLM.Generation;
using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Tests.Generation;

/// <summary>Decoding sequences through their caches, past the context window, against the uncached sliding window.</summary>
public sealed class BatchDecoderTests
{
    static TransformerLM RandomModel()
    {
        using var generator = new Generator(11);
        var config = new TransformerConfig(VocabSize: 50, ContextLength: 6, DModel: 16, NumLayers: 2, NumHeads: 2, DFf: 32, RopeTheta: 10_000);
        var model = new TransformerLM(config, generator: generator);
        model.eval();
        return model;
    }

    /// <summary>The no-cache path's next-token logits: the last contextLength tokens at positions 0, 1, ….</summary>
    static Tensor SlidingWindow(TransformerLM model, IReadOnlyList<int> tokens)
    {
        var window = tokens.Skip(Math.Max(0, tokens.Count - model.Config.ContextLength)).Select(id => (long)id).ToArray();
        return model.call(tensor(window).unsqueeze(0))[0, -1];
    }

    [Fact]
    public void NextLogits_BeyondTheContextWindow_EqualsTheSlidingWindowAtEveryStep()
    {
        using var model = RandomModel();
        using var noGrad = no_grad();
        using var generator = new Generator(5);
        using var shortPrompt = new DecodingSequence(model.Config, [1, 2]);
        using var longPrompt = new DecodingSequence(model.Config, [.. Enumerable.Range(3, 9)]); // longer than the window
        DecodingSequence[] sequences = [shortPrompt, longPrompt];
        for (int step = 0; step < 15; step++)
        {
            using var scope = NewDisposeScope();
            var logits = BatchDecoder.NextLogits(model, sequences); // (2, vocab)
            for (int row = 0; row < sequences.Length; row++)
            {
                TensorAssert.Close(SlidingWindow(model, sequences[row].Tokens), logits[row], atol: 1e-5, rtol: 0);
                sequences[row].Add((int)multinomial(logits[row].softmax(-1), 1, generator: generator).item<long>());
            }
        }
        Assert.Equal(17, shortPrompt.Tokens.Count);
    }

    [Fact]
    public void Fork_ContinuesIndependentlyFromTheSharedPrefill()
    {
        using var model = RandomModel();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var original = new DecodingSequence(model.Config, [4, 5, 6]);
        BatchDecoder.NextLogits(model, [original]);
        using var fork = original.Fork();
        original.Add(7);
        fork.Add(8);
        var logits = BatchDecoder.NextLogits(model, [original, fork]);
        TensorAssert.Close(SlidingWindow(model, [4, 5, 6, 7]), logits[0], atol: 1e-5, rtol: 0);
        TensorAssert.Close(SlidingWindow(model, [4, 5, 6, 8]), logits[1], atol: 1e-5, rtol: 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the C# cached pass, which writes the caches' storage by address
    public void EqualPrompts_SharingOnePrefill_EachContinueAsAlone(bool fused)
    {
        using var model = RandomModel();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var weights = fused ? new DecodingWeights(model) : null;
        int[][] prompts = [[4, 5, 6], [1, 2, 3], [4, 5, 6], [4, 5, 6]];
        var sequences = prompts.Select(prompt => new DecodingSequence(model.Config, prompt)).ToArray();
        try
        {
            var prefill = BatchDecoder.NextLogits(model, sequences, weights); // (4, vocab)
            for (int row = 0; row < sequences.Length; row++)
            {
                TensorAssert.Close(SlidingWindow(model, prompts[row]), prefill[row], atol: 1e-5, rtol: 0);
                Assert.Equal(3, sequences[row].Cache.Length);
            }
            // Different next tokens: a shared cache, rather than a copy, would show here.
            for (int step = 0; step < 5; step++)
            {
                for (int row = 0; row < sequences.Length; row++)
                {
                    sequences[row].Add((7 * row + step) % model.Config.VocabSize);
                }
                var logits = BatchDecoder.NextLogits(model, sequences, weights);
                for (int row = 0; row < sequences.Length; row++)
                {
                    TensorAssert.Close(SlidingWindow(model, sequences[row].Tokens), logits[row], atol: 1e-5, rtol: 0);
                }
            }
        }
        finally
        {
            foreach (var sequence in sequences)
            {
                sequence.Dispose();
            }
        }
    }
}
