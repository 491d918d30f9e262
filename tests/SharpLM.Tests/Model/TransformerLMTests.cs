using SharpLM.Model;
using SharpLM.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Tests.Model;

public class TransformerLMTests
{
    static readonly TransformerConfig Tiny = new(
        VocabSize: 37, ContextLength: 12, DModel: 16, NumLayers: 2, NumHeads: 4, DFf: 40, RopeTheta: 10_000);

    /// <summary>2·V·d + L·(4d² + 3·d·d_ff + 2d) + d: embeddings and head, per layer four projections, SwiGLU and two gains, then ln_final.</summary>
    static long ClosedFormParameterCount(TransformerConfig c) =>
        2L * c.VocabSize * c.DModel
        + c.NumLayers * (4L * c.DModel * c.DModel + 3L * c.DModel * c.DFf + 2L * c.DModel)
        + c.DModel;

    public static TheoryData<TransformerConfig> Configs =>
    [
        Tiny,
        new TransformerConfig(VocabSize: 5, ContextLength: 3, DModel: 4, NumLayers: 1, NumHeads: 2, DFf: 8, RopeTheta: 100),
        new TransformerConfig(VocabSize: 300, ContextLength: 64, DModel: 48, NumLayers: 3, NumHeads: 6, DFf: 128, RopeTheta: 10_000),
    ];

    [Theory]
    [MemberData(nameof(Configs))]
    public void ParameterCount_EqualsClosedForm(TransformerConfig config)
    {
        using var generator = new Generator(100);
        using var model = new TransformerLM(config, generator: generator);

        Assert.Equal(ClosedFormParameterCount(config), model.ParameterCount);
    }

    [Fact]
    public void ParameterCount_OfTinyStories_Is22696448WithAbout17MillionNonEmbedding()
    {
        // On the meta device: shapes without storage, so counting allocates nothing.
        using var model = new TransformerLM(TransformerConfig.TinyStories, new Device(DeviceType.META));

        // 2·10000·512 + 4·(4·512² + 3·512·1344 + 2·512) + 512
        Assert.Equal(22_696_448, ClosedFormParameterCount(TransformerConfig.TinyStories));
        Assert.Equal(22_696_448, model.ParameterCount);
        // The handout's "about 17M non-embedding parameters": all but the 10000·512 token embeddings.
        Assert.Equal(22_696_448 - 10_000 * 512, model.NonEmbeddingParameterCount);
    }

    [Fact]
    public void StateDict_HasExactlyTheReferenceKeys()
    {
        using var model = new TransformerLM(Tiny);

        var expected = new List<string> { "token_embeddings.weight", "ln_final.weight", "lm_head.weight" };
        for (int layer = 0; layer < Tiny.NumLayers; layer++)
        {
            expected.AddRange(
                from name in new[]
                {
                    "attn.q_proj.weight", "attn.k_proj.weight", "attn.v_proj.weight", "attn.output_proj.weight",
                    "ln1.weight", "ln2.weight", "ffn.w1.weight", "ffn.w2.weight", "ffn.w3.weight",
                }
                select $"layers.{layer}.{name}");
        }
        var stateDict = model.state_dict();
        Assert.Equal(expected.Order(StringComparer.Ordinal), stateDict.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([37L, 16], stateDict["token_embeddings.weight"].shape);
        Assert.Equal([37L, 16], stateDict["lm_head.weight"].shape);
        Assert.Equal([40L, 16], stateDict["layers.1.ffn.w1.weight"].shape);
    }

    [Fact]
    public void StateDict_RoundTripsThroughSaveAndLoad()
    {
        using var first = new Generator(101);
        using var second = new Generator(102);
        using var source = new TransformerLM(Tiny, generator: first);
        using var target = new TransformerLM(Tiny, generator: second);
        using var tokenIds = randint(Tiny.VocabSize, [2, 7], ScalarType.Int64, generator: first);
        using var saved = new MemoryStream();

        source.save(saved); // closes the stream
        target.load(new MemoryStream(saved.ToArray()));

        var loaded = target.state_dict();
        foreach (var (key, value) in source.state_dict())
        {
            TensorAssert.Equal(value, loaded[key]);
        }
        using var expected = source.forward(tokenIds);
        using var actual = target.forward(tokenIds);
        TensorAssert.Equal(expected, actual);
    }

    [Fact]
    public void Forward_OnSequenceShorterThanTheContext_GivesCausalLogitsForEveryPosition()
    {
        using var generator = new Generator(103);
        using var model = new TransformerLM(Tiny, generator: generator);
        using var tokenIds = randint(Tiny.VocabSize, [3, 5], ScalarType.Int64, generator: generator);
        using var changedLast = tokenIds.clone();
        changedLast[.., 4] = tokenIds[.., 4].Plus(1).Modulo(Tiny.VocabSize);

        using var logits = model.forward(tokenIds);
        using var changedLogits = model.forward(changedLast);

        Assert.Equal([3L, 5, Tiny.VocabSize], logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
        TensorAssert.Close(logits[.., ..4], changedLogits[.., ..4], 1e-6, 1e-6);
        Assert.False(allclose(logits[.., 4], changedLogits[.., 4]));
    }

    [Fact]
    public void Forward_OnUnbatchedSequence_GivesSequenceByVocabulary()
    {
        using var model = new TransformerLM(Tiny);
        using var tokenIds = tensor(new long[] { 1, 2, 3 });

        using var logits = model.forward(tokenIds);

        Assert.Equal([3L, Tiny.VocabSize], logits.shape);
    }

    [Fact]
    public void Forward_OnSequenceLongerThanTheContext_ThrowsNamingBothLengths()
    {
        using var model = new TransformerLM(Tiny);
        using var tokenIds = zeros([1, 13], ScalarType.Int64);

        var error = Assert.Throws<ArgumentException>(() => model.forward(tokenIds));
        Assert.Contains("13", error.Message);
        Assert.Contains("12", error.Message);
    }

    [Fact]
    public void Forward_WithTokenOutsideTheVocabulary_ThrowsNamingIt()
    {
        using var model = new TransformerLM(Tiny);
        using var tokenIds = tensor(new long[] { 0, 37, 1 }, [1, 3]);

        var error = Assert.Throws<ArgumentException>(() => model.forward(tokenIds));
        Assert.Contains("37", error.Message);
    }

    [Fact]
    public void Ctor_WithInvalidConfig_ThrowsNamingTheNumbers()
    {
        var error = Assert.Throws<ArgumentException>(() => new TransformerLM(Tiny with { NumHeads = 3 }));
        Assert.Contains("16", error.Message);
        Assert.Contains("3", error.Message);
    }

    [Fact]
    public void Forward_LeavesNoLiveTensorsBehindButItsResult()
    {
        using var model = new TransformerLM(Tiny);
        using var tokenIds = zeros([2, 6], ScalarType.Int64);
        model.forward(tokenIds).Dispose(); // warm up any lazily created state
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        model.forward(tokenIds).Dispose();

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Kernels_FromConfig_GiveTheSameLogits()
    {
        using var referenceGenerator = new Generator(104);
        using var fusedGenerator = new Generator(104);
        using var reference = new TransformerLM(Tiny with { AttentionKernel = AttentionKernel.Reference }, generator: referenceGenerator);
        using var fused = new TransformerLM(Tiny with { AttentionKernel = AttentionKernel.Fused }, generator: fusedGenerator);
        using var tokenIds = randint(Tiny.VocabSize, [2, 12], ScalarType.Int64, generator: referenceGenerator);

        using var expected = reference.forward(tokenIds);
        using var actual = fused.forward(tokenIds);

        Assert.All(reference.Layers, layer => Assert.Equal(AttentionKernel.Reference, layer.Attention.Kernel));
        Assert.All(fused.Layers, layer => Assert.Equal(AttentionKernel.Fused, layer.Attention.Kernel));
        TensorAssert.Close(expected, actual, 1e-5, 1e-4);
    }

    [Fact]
    public void Training_OneBatchRepeatedFor200AdamWSteps_DrivesLossBelowPointOne()
    {
        // The handout's sanity check: a model that can learn must be able to memorise a single batch. Two rows of
        // random tokens, so no context repeats with a different next token (that would put a floor under the loss).
        var config = new TransformerConfig(VocabSize: 32, ContextLength: 8, DModel: 32, NumLayers: 2, NumHeads: 4, DFf: 64, RopeTheta: 10_000);
        using var generator = new Generator(107);
        using var model = new TransformerLM(config, generator: generator);
        using var tokens = randint(config.VocabSize, [2, config.ContextLength + 1], ScalarType.Int64, generator: generator);
        using var inputs = tokens[.., ..^1]; // (batch, seq)
        using var targets = tokens[.., 1..]; // (batch, seq): the next token at every position
        using var optimizer = new AdamW(model.parameters(), lr: 1e-2);

        var losses = new List<float>();
        long liveAfterFirstStep = 0;
        for (int step = 0; step < 200; step++)
        {
            using (NewDisposeScope())
            {
                optimizer.zero_grad();
                var loss = Losses.CrossEntropy(model.forward(inputs), targets);
                loss.backward();
                optimizer.step();
                losses.Add(loss.item<float>());
            }
            if (step == 0)
            {
                liveAfterFirstStep = DisposeScopeManager.Statistics.ThreadTotalLiveCount; // gradients and optimizer state now exist
            }
        }

        // At initialisation the loss is about ln V.
        Assert.InRange(losses[0], Math.Log(config.VocabSize) - 1, Math.Log(config.VocabSize) + 1);
        Assert.True(losses[^1] < 0.1, $"loss after 200 steps is {losses[^1]}");
        Assert.Equal(liveAfterFirstStep, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Init_WithGeneratorsOfTheSameSeed_IsReproducible()
    {
        using var first = new Generator(105);
        using var second = new Generator(105);
        using var a = new TransformerLM(Tiny, generator: first);
        using var b = new TransformerLM(Tiny, generator: second);

        var other = b.state_dict();
        foreach (var (key, value) in a.state_dict())
        {
            TensorAssert.Equal(value, other[key]);
        }
    }

    [Fact]
    public void To_Float64_MovesParametersAndRopeTablesOfEveryLayer()
    {
        using var model = new TransformerLM(Tiny);
        using var tokenIds = tensor(new long[] { 3, 1, 4, 1, 5 });

        model.to(ScalarType.Float64);
        using var logits = model.forward(tokenIds);

        Assert.Equal(ScalarType.Float64, logits.dtype);
        Assert.All(model.parameters(), parameter => Assert.Equal(ScalarType.Float64, parameter.dtype));
        Assert.All(model.Layers, layer => Assert.Equal(ScalarType.Float64, layer.Attention.Rope!.CosTable.dtype));
    }
}

[Collection(GlobalRandomCollection.Name)]
public class TransformerLMGlobalRandomTests
{
    [Fact]
    public void Init_UnderTheSameManualSeed_IsReproducible()
    {
        var config = new TransformerConfig(VocabSize: 11, ContextLength: 4, DModel: 8, NumLayers: 1, NumHeads: 2, DFf: 16, RopeTheta: 10_000);
        manual_seed(106);
        using var a = new TransformerLM(config);
        manual_seed(106);
        using var b = new TransformerLM(config);

        var other = b.state_dict();
        foreach (var (key, value) in a.state_dict())
        {
            TensorAssert.Equal(value, other[key]);
        }
    }
}
