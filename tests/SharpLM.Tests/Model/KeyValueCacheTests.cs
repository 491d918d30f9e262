using SharpLM.Model;
using SharpLM.Precision;
using static TorchSharp.torch;

namespace SharpLM.Tests.Model;

/// <summary>Cached decoding against the full forward pass of the same randomly initialised model.</summary>
public sealed class KeyValueCacheTests
{
    static TransformerLM RandomModel(AttentionKernel kernel, int seed = 3)
    {
        using var generator = new Generator((ulong)seed);
        var config = new TransformerConfig(VocabSize: 64, ContextLength: 12, DModel: 32, NumLayers: 2, NumHeads: 4, DFf: 64, RopeTheta: 10_000, kernel);
        var model = new TransformerLM(config, generator: generator);
        model.eval();
        return model;
    }

    static long[] RandomTokens(int count, int seed)
    {
        using var generator = new Generator((ulong)seed);
        return randint(0, 64, [count], generator: generator).data<long>().ToArray();
    }

    /// <summary>(vocab) logits of the token after <paramref name="tokens"/>, without a cache.</summary>
    static Tensor Uncached(TransformerLM model, ReadOnlySpan<long> tokens) => model.call(tensor(tokens.ToArray()).unsqueeze(0))[0, -1];

    [Theory]
    [InlineData(AttentionKernel.Fused)]
    [InlineData(AttentionKernel.Reference)]
    public void PrefillThenDecode_AtEveryStep_MatchesTheFullForwardPass(AttentionKernel kernel)
    {
        using var model = RandomModel(kernel);
        using var noGrad = no_grad();
        using var cache = new KeyValueCache(model.Config);
        long[] tokens = RandomTokens(12, 1);
        using (var scope = NewDisposeScope())
        {
            var prefill = model.forward(tensor(tokens[..4]).unsqueeze(0), [cache]); // (1, 4, vocab)
            TensorAssert.Close(model.call(tensor(tokens[..4]).unsqueeze(0)), prefill, atol: 1e-5, rtol: 0);
        }
        for (int length = 5; length <= tokens.Length; length++)
        {
            using var scope = NewDisposeScope();
            var decoded = model.forward(tensor(new[] { tokens[length - 1] }).unsqueeze(0), [cache])[0, -1]; // (vocab)
            TensorAssert.Close(Uncached(model, tokens.AsSpan(0, length)), decoded, atol: 1e-5, rtol: 0);
            Assert.Equal(length, cache.Length);
        }
    }

    [Theory]
    [InlineData(FeedForwardKind.Swiglu)]
    [InlineData(FeedForwardKind.Silu)]
    public void FusedDecodingWeights_AtEveryStep_MatchTheFullForwardPass(FeedForwardKind ffn)
    {
        using var generator = new Generator(8);
        var config = new TransformerConfig(64, 12, 32, 2, 4, 64, 10_000, Ffn: ffn);
        using var model = new TransformerLM(config, generator: generator);
        using var noGrad = no_grad();
        using var weights = new DecodingWeights(model);
        Assert.NotNull(weights.Cpu); // float32 on the CPU: the one-token steps below run in C#
        using var cache = new KeyValueCache(model.Config);
        long[] tokens = RandomTokens(12, 9);
        using (var scope = NewDisposeScope())
        {
            var prefill = model.forward(tensor(tokens[..5]).unsqueeze(0), [cache], weights); // (1, 5, vocab)
            TensorAssert.Close(model.call(tensor(tokens[..5]).unsqueeze(0)), prefill, atol: 1e-5, rtol: 0);
        }
        for (int length = 6; length <= tokens.Length; length++)
        {
            using var scope = NewDisposeScope();
            var decoded = model.forward(tensor(new[] { tokens[length - 1] }).unsqueeze(0), [cache], weights)[0, -1]; // (vocab)
            TensorAssert.Close(Uncached(model, tokens.AsSpan(0, length)), decoded, atol: 1e-5, rtol: 0);
        }
    }

    /// <summary>Every architecture option, decoded through the model's own weights and through <see cref="DecodingWeights"/> (the C# step).</summary>
    public static TheoryData<NormPlacement, bool, PositionEncoding, FeedForwardKind, bool, bool> Variants
    {
        get
        {
            var data = new TheoryData<NormPlacement, bool, PositionEncoding, FeedForwardKind, bool, bool>();
            foreach (bool fused in new[] { false, true })
            {
                data.Add(NormPlacement.Post, true, PositionEncoding.Rope, FeedForwardKind.Swiglu, false, fused);
                data.Add(NormPlacement.None, false, PositionEncoding.Rope, FeedForwardKind.Swiglu, false, fused);
                data.Add(NormPlacement.Pre, true, PositionEncoding.Nope, FeedForwardKind.Swiglu, false, fused);
                data.Add(NormPlacement.Pre, true, PositionEncoding.Rope, FeedForwardKind.Silu, true, fused);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void EveryArchitectureVariant_DecodesWithTheCacheAsWithout(NormPlacement norm, bool finalNorm, PositionEncoding position, FeedForwardKind ffn, bool tied, bool fused)
    {
        using var generator = new Generator(5);
        var config = new TransformerConfig(64, 12, 32, 2, 4, 64, 10_000, Norm: norm, FinalNorm: finalNorm, Position: position, Ffn: ffn, TieEmbeddings: tied);
        using var model = new TransformerLM(config, generator: generator);
        using var noGrad = no_grad();
        using var weights = fused ? new DecodingWeights(model) : null;
        using var cache = new KeyValueCache(model.Config);
        long[] tokens = RandomTokens(12, 4);
        using (var scope = NewDisposeScope())
        {
            model.forward(tensor(tokens[..3]).unsqueeze(0), [cache], weights);
        }
        for (int length = 4; length <= tokens.Length; length++)
        {
            using var scope = NewDisposeScope();
            var decoded = model.forward(tensor(new[] { tokens[length - 1] }).unsqueeze(0), [cache], weights)[0, -1]; // (vocab)
            TensorAssert.Close(Uncached(model, tokens.AsSpan(0, length)), decoded, atol: 1e-5, rtol: 0);
        }
    }

    [Fact]
    public void DecodingWeights_BatchedPrefillAcrossChunks_MatchesTheFullForwardPassOfEachRow()
    {
        // 2 × 40 tokens: the C# step's 32-token chunks split both rows, and one chunk holds the end of one and the start of the other.
        using var generator = new Generator(16);
        var config = new TransformerConfig(64, 48, 32, 2, 4, 64, 10_000);
        using var model = new TransformerLM(config, generator: generator);
        using var noGrad = no_grad();
        using var weights = new DecodingWeights(model);
        using var first = new KeyValueCache(model.Config);
        using var second = new KeyValueCache(model.Config);
        using var scope = NewDisposeScope();
        var tokens = tensor(RandomTokens(80, 17), [2, 40]);
        var prefill = model.forward(tokens, [first, second], weights); // (2, 40, vocab)
        TensorAssert.Close(model.call(tokens), prefill, atol: 1e-5, rtol: 0);
        Assert.Equal(40, first.Length);
        Assert.Equal(40, second.Length);
    }

    [Theory]
    [InlineData(AttentionKernel.Fused)]
    [InlineData(AttentionKernel.Reference)]
    public void ChunkAfterCachedPositions_MasksCausallyFromItsAbsolutePositions(AttentionKernel kernel)
    {
        using var model = RandomModel(kernel);
        using var noGrad = no_grad();
        using var cache = new KeyValueCache(model.Config);
        using var scope = NewDisposeScope();
        long[] tokens = RandomTokens(9, 2);
        model.forward(tensor(tokens[..3]).unsqueeze(0), [cache]);
        var chunk = model.forward(tensor(tokens[3..]).unsqueeze(0), [cache]); // (1, 6, vocab)
        TensorAssert.Close(model.call(tensor(tokens).unsqueeze(0))[.., 3..], chunk, atol: 1e-5, rtol: 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BatchedDecode_OfCachesWithDifferentLengths_MatchesEachSequenceAlone(bool fused)
    {
        using var model = RandomModel(AttentionKernel.Fused);
        using var noGrad = no_grad();
        using var weights = fused ? new DecodingWeights(model) : null;
        using var shortCache = new KeyValueCache(model.Config);
        using var longCache = new KeyValueCache(model.Config);
        using var scope = NewDisposeScope();
        long[] shortTokens = RandomTokens(3, 4);
        long[] longTokens = RandomTokens(7, 5);
        model.forward(tensor(shortTokens[..^1]).unsqueeze(0), [shortCache]);
        model.forward(tensor(longTokens[..^1]).unsqueeze(0), [longCache]);
        var step = model.forward(tensor(new[] { shortTokens[^1], longTokens[^1] }).unsqueeze(1), [shortCache, longCache], weights); // (2, 1, vocab)
        TensorAssert.Close(Uncached(model, shortTokens), step[0, 0], atol: 1e-5, rtol: 0);
        TensorAssert.Close(Uncached(model, longTokens), step[1, 0], atol: 1e-5, rtol: 0);
    }

    [Theory]
    [InlineData(20, 2, 36, 61, 1, 3)] // rows and sums that are not whole SIMD vectors; no four-row block
    [InlineData(20, 2, 36, 61, 1, 6)] // one four-row block of the product kernel and two rows left over
    [InlineData(128, 4, 384, 300, 3, 3)] // products large enough to split across three workers
    [InlineData(128, 4, 384, 300, 3, 5)]
    public void DecodingWeights_BatchedSteps_MatchEachSequenceAlone(int dModel, int heads, int dFf, int vocabulary, int threads, int rows)
    {
        using var generator = new Generator(12);
        var config = new TransformerConfig(vocabulary, 12, dModel, 2, heads, dFf, 10_000);
        using var model = new TransformerLM(config, generator: generator);
        using var noGrad = no_grad();
        using var weights = new DecodingWeights(model);
        weights.Cpu!.Threads = threads;
        // Rows with caches of different lengths (2 to 11 tokens, so attention spans whole and partial key blocks).
        long[][] sequences = [.. Enumerable.Range(0, rows).Select(row => RandomTokens(2 + (row * 5 % 10), 13 + row).Select(id => id % vocabulary).ToArray())];
        KeyValueCache[] caches = [.. sequences.Select(_ => new KeyValueCache(model.Config))];
        try
        {
            using var scope = NewDisposeScope();
            for (int row = 0; row < sequences.Length; row++)
            {
                model.forward(tensor(sequences[row][..^1]).unsqueeze(0), [caches[row]], weights);
            }
            var step = model.forward(tensor(sequences.Select(tokens => tokens[^1]).ToArray()).unsqueeze(1), caches, weights); // (rows, 1, vocab)
            for (int row = 0; row < sequences.Length; row++)
            {
                TensorAssert.Close(Uncached(model, sequences[row]), step[row, 0], atol: 1e-5, rtol: 0);
            }
        }
        finally
        {
            foreach (var cache in caches)
            {
                cache.Dispose();
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bf16Autocast_CachesBf16KeysAndAgreesWithTheUncachedBf16Pass(bool fused)
    {
        using var model = RandomModel(AttentionKernel.Fused);
        using var noGrad = no_grad();
        using var autocast = Autocast.Enter(PrecisionSetting.Bf16);
        using var weights = fused ? new DecodingWeights(model) : null;
        Assert.Null(weights?.Cpu); // bf16 steps stay in libtorch
        using var cache = new KeyValueCache(model.Config);
        using var scope = NewDisposeScope();
        long[] tokens = RandomTokens(8, 6);
        model.forward(tensor(tokens[..^1]).unsqueeze(0), [cache], weights);
        var decoded = model.forward(tensor(new[] { tokens[^1] }).unsqueeze(0), [cache], weights)[0, -1];
        var (keys, _) = cache[0].Append(zeros(4, 0, 8, dtype: ScalarType.BFloat16), zeros(4, 0, 8, dtype: ScalarType.BFloat16));
        Assert.Equal(ScalarType.BFloat16, keys.dtype);
        // bf16 keeps 8 bits of mantissa: both paths round the same products, but in different groupings.
        TensorAssert.Close(Uncached(model, tokens), decoded, atol: 3e-2, rtol: 3e-2);
    }

    [Fact]
    public void Forward_PastTheContextLength_Throws()
    {
        using var model = RandomModel(AttentionKernel.Fused);
        using var noGrad = no_grad();
        using var cache = new KeyValueCache(model.Config);
        using var scope = NewDisposeScope();
        model.forward(tensor(RandomTokens(12, 7)).unsqueeze(0), [cache]);
        var error = Assert.Throws<ArgumentException>(() => model.forward(tensor(new long[] { 1 }).unsqueeze(0), [cache]));
        Assert.Contains("exceed the context length 12", error.Message, StringComparison.Ordinal);
    }
}
