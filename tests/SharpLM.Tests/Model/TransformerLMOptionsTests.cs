using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Tests.Model;

/// <summary>The architecture options of §7.3 and §7.5 on the whole model: parameters, keys, and what each changes.</summary>
public class TransformerLMOptionsTests
{
    static readonly TransformerConfig Tiny = new(
        VocabSize: 37, ContextLength: 12, DModel: 16, NumLayers: 2, NumHeads: 4, DFf: 40, RopeTheta: 10_000);

    public static TheoryData<TransformerConfig> Variants =>
    [
        Tiny,
        Tiny with { Norm = NormPlacement.Post },
        Tiny with { Norm = NormPlacement.None },
        Tiny with { Norm = NormPlacement.None, FinalNorm = false },
        Tiny with { Position = PositionEncoding.Nope },
        Tiny with { Ffn = FeedForwardKind.Silu, DFf = 64 },
        Tiny with { TieEmbeddings = true },
        Tiny with { Norm = NormPlacement.Post, FinalNorm = false, Position = PositionEncoding.Nope, Ffn = FeedForwardKind.Silu, TieEmbeddings = true },
    ];

    /// <summary>
    /// (2 − tied)·V·d + L·(4d² + m·d·d_ff + n·d) + f·d: embeddings and an untied head; per layer the four attention
    /// projections, m = 3 SwiGLU or 2 SiLU matrices, n = 2 gains with block norms; f = 1 with the final norm.
    /// </summary>
    static long ClosedForm(TransformerConfig c)
    {
        long v = c.VocabSize, d = c.DModel, dFf = c.DFf;
        long m = c.Ffn == FeedForwardKind.Swiglu ? 3 : 2;
        long n = c.Norm == NormPlacement.None ? 0 : 2;
        return (c.TieEmbeddings ? 1 : 2) * v * d + c.NumLayers * (4 * d * d + m * d * dFf + n * d) + (c.FinalNorm ? d : 0);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void ParameterCount_OfEachVariant_EqualsItsClosedForm(TransformerConfig config)
    {
        using var model = new TransformerLM(config, new Device(TorchSharp.DeviceType.META));

        Assert.Equal(ClosedForm(config), model.ParameterCount);
        Assert.Equal(ClosedForm(config), SharpLM.Accounting.ParameterAccounting.Total(config));
    }

    [Fact]
    public void ParameterCount_OfTheSwiGluAndSiluTinyStoriesModels_AgreeWithinTwoPercent()
    {
        var swiGlu = TransformerConfig.TinyStories;
        var silu = swiGlu with { Ffn = FeedForwardKind.Silu, DFf = TransformerConfig.DefaultFeedForwardSize(FeedForwardKind.Silu, swiGlu.DModel) };

        Assert.Equal(1344, TransformerConfig.DefaultFeedForwardSize(FeedForwardKind.Swiglu, swiGlu.DModel));
        Assert.Equal(2048, silu.DFf);
        // 22,696,448 against 2·10000·512 + 4·(4·512² + 2·512·2048 + 2·512) + 512 = 22,827,520.
        Assert.Equal(22_827_520, ClosedForm(silu));
        Assert.InRange(ClosedForm(silu) / (double)ClosedForm(swiGlu), 1.0, 1.02);
    }

    [Fact]
    public void StateDict_OfTheAblatedModel_HasTheReferenceKeysThatStillExist()
    {
        using var model = new TransformerLM(Tiny with
        {
            Norm = NormPlacement.None,
            FinalNorm = false,
            Ffn = FeedForwardKind.Silu,
            TieEmbeddings = true,
        });

        var expected = new List<string> { "token_embeddings.weight" };
        for (int layer = 0; layer < Tiny.NumLayers; layer++)
        {
            expected.AddRange(
                from name in new[] { "attn.q_proj.weight", "attn.k_proj.weight", "attn.v_proj.weight", "attn.output_proj.weight", "ffn.w1.weight", "ffn.w2.weight" }
                select $"layers.{layer}.{name}");
        }
        Assert.Equal(expected.Order(StringComparer.Ordinal), model.state_dict().Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Forward_WithoutFinalNorm_FeedsTheLastBlockStraightToTheHead()
    {
        using var generator = new Generator(120);
        using var model = new TransformerLM(Tiny with { FinalNorm = false }, generator: generator);
        using var tokenIds = randint(Tiny.VocabSize, [2, 7], ScalarType.Int64, generator: generator);

        using var actual = model.forward(tokenIds);

        using var scope = NewDisposeScope();
        Assert.Null(model.FinalNorm);
        var hidden = model.TokenEmbeddings.forward(tokenIds);
        foreach (var layer in model.Layers)
        {
            hidden = layer.forward(hidden);
        }
        TensorAssert.Close(nn.functional.linear(hidden, model.LanguageModelHead!.Weight), actual, 1e-6, 1e-5);
    }

    /// <summary>
    /// Without position information, the first layer's output at position i is a function of token i and of the
    /// multiset of tokens 0…i (attention's softmax-weighted sum over keys does not depend on their order). So in a
    /// one-layer model, the logits at the last position do not change when the tokens before it are permuted; with
    /// RoPE they do, which shows the check can fail.
    /// </summary>
    [Theory]
    [InlineData(PositionEncoding.Nope, true)]
    [InlineData(PositionEncoding.Rope, false)]
    public void Forward_LastPosition_IgnoresTheOrderOfThePrefixOnlyWithoutPositions(PositionEncoding position, bool invariant)
    {
        using var generator = new Generator(121);
        using var model = new TransformerLM(Tiny with { NumLayers = 1, Position = position }, generator: generator);
        using var tokenIds = tensor(new long[] { 3, 14, 15, 9, 26, 5, 35, 8 });
        using var permuted = tensor(new long[] { 26, 9, 3, 35, 15, 14, 5, 8 }); // the same prefix in another order, same last token

        using var original = model.forward(tokenIds);
        using var shuffled = model.forward(permuted);

        using var scope = NewDisposeScope();
        Assert.Equal(invariant, allclose(original[^1], shuffled[^1], 1e-5, 1e-5));
        // Earlier positions see different prefixes in both cases.
        Assert.False(allclose(original[3], shuffled[3], 1e-3, 1e-3));
    }

    [Fact]
    public void Attention_WithoutPositions_HasNoRope()
    {
        using var model = new TransformerLM(Tiny with { Position = PositionEncoding.Nope });

        Assert.All(model.Layers, layer => Assert.Null(layer.Attention.Rope));
    }

    [Fact]
    public void Tied_HasOneMatrixForBothUses_AndItsGradientIsTheSumOfTheUntiedGradients()
    {
        using var generator = new Generator(122);
        using var tied = new TransformerLM(Tiny with { TieEmbeddings = true }, generator: generator);
        using var untied = new TransformerLM(Tiny);
        using (no_grad())
        {
            var source = tied.state_dict();
            foreach (var (key, parameter) in untied.named_parameters())
            {
                parameter.copy_(source[key == "lm_head.weight" ? "token_embeddings.weight" : key]);
            }
        }
        using var tokenIds = randint(Tiny.VocabSize, [3, 9], ScalarType.Int64, generator: generator);
        using var targets = randint(Tiny.VocabSize, [3, 9], ScalarType.Int64, generator: generator);

        using var scope = NewDisposeScope();
        Assert.Null(tied.LanguageModelHead);
        Assert.Equal(1, tied.parameters().Count(parameter => parameter.shape.SequenceEqual(new long[] { Tiny.VocabSize, Tiny.DModel })));
        var tiedLogits = tied.forward(tokenIds);
        var untiedLogits = untied.forward(tokenIds);
        TensorAssert.Close(untiedLogits, tiedLogits, 1e-6, 1e-5);
        nn.functional.cross_entropy(tiedLogits.flatten(0, 1), targets.flatten()).backward();
        nn.functional.cross_entropy(untiedLogits.flatten(0, 1), targets.flatten()).backward();

        var lookupGradient = untied.TokenEmbeddings.Weight.grad!;
        var headGradient = untied.LanguageModelHead!.Weight.grad!;
        Assert.True(lookupGradient.abs().sum().item<float>() > 0 && headGradient.abs().sum().item<float>() > 0);
        TensorAssert.Close(lookupGradient.Plus(headGradient), tied.TokenEmbeddings.Weight.grad!, 1e-6, 1e-5);
    }

    [Fact]
    public void Tied_InitialisesTheSharedMatrixWithStdOneOverRootD_SoInitialLogitsHaveUnitScale()
    {
        var config = Tiny with { VocabSize = 1000, DModel = 64, NumHeads = 4, TieEmbeddings = true };
        using var generator = new Generator(123);
        using var model = new TransformerLM(config, generator: generator);
        using var tokenIds = randint(config.VocabSize, [4, config.ContextLength], ScalarType.Int64, generator: generator);

        using var scope = NewDisposeScope();
        double std = model.TokenEmbeddings.Weight.std().item<float>();
        // N(0, 1/d) truncated at ±3σ has std 0.9866/√d.
        Assert.InRange(std, 0.95 / Math.Sqrt(64), 1.02 / Math.Sqrt(64));
        double logitStd = model.forward(tokenIds).std().item<float>();
        Assert.InRange(logitStd, 0.7, 1.3);
    }
}
