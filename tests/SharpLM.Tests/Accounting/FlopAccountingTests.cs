using SharpLM.Accounting;
using SharpLM.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Tests.Accounting;

public class FlopAccountingTests
{
    static readonly TransformerConfig Small = new(
        VocabSize: 37, ContextLength: 12, DModel: 16, NumLayers: 2, NumHeads: 4, DFf: 40, RopeTheta: 10_000);

    /// <summary>
    /// Traces every matmul of a real forward pass through forward hooks. Each Linear's hook sees the operands
    /// input (..., in) and weight (out, in) and adds 2·rows·in·out. The attention's two batched matmuls multiply views
    /// of the query, key and value projections' outputs split into heads, so their shapes are taken from those
    /// outputs as traced: QKᵀ costs 2·Tq·d·Tk per sequence and attention·V 2·Tq·Tk·d_v, a sum over the heads that
    /// does not depend on how many there are. Everything else (embedding lookup, norms, RoPE, softmax, SiLU) is not
    /// a matmul. The hooks also count the calls, so a Linear that ran without being traced would fail the test. A tied
    /// head is no Linear: its matmul (..., d)·(d, V) is traced from the final norm's output that it multiplies.
    /// </summary>
    public static TheoryData<TransformerConfig> Variants =>
    [
        Small with { AttentionKernel = AttentionKernel.Reference },
        Small,
        Small with { Ffn = FeedForwardKind.Silu },
        Small with { Norm = NormPlacement.Post, Position = PositionEncoding.Nope, Ffn = FeedForwardKind.Silu, TieEmbeddings = true },
        Small with { Norm = NormPlacement.None, TieEmbeddings = true },
    ];

    [Theory]
    [MemberData(nameof(Variants))]
    public void ForwardByComponent_EqualsTheMatmulsTracedFromARealForwardPass(TransformerConfig config)
    {
        const int batchSize = 3;
        using var generator = new Generator(61);
        using var model = new TransformerLM(config, generator: generator);
        var traced = new Dictionary<string, long>();
        int linearCalls = 0;
        var removeHooks = new List<Action>();

        void Add(string component, long flops) => traced[component] = traced.GetValueOrDefault(component) + flops;

        void Trace(Linear linear, string component, Action<long[]>? onOutput = null)
        {
            var hook = linear.register_forward_hook((_, input, output) =>
            {
                linearCalls++;
                long inFeatures = linear.Weight.shape[1], outFeatures = linear.Weight.shape[0];
                Assert.Equal(inFeatures, input.shape[^1]);
                long rows = input.numel() / inFeatures;
                Add(component, 2 * rows * inFeatures * outFeatures);
                onOutput?.Invoke(output.shape);
                return output;
            });
            removeHooks.Add(hook.remove);
        }

        foreach (var block in model.Layers)
        {
            long[]? query = null, key = null;
            var attention = block.Attention;
            Trace(attention.QueryProjection, "Q/K/V projections", shape => query = shape);
            Trace(attention.KeyProjection, "Q/K/V projections", shape => key = shape);
            Trace(attention.ValueProjection, "Q/K/V projections", value =>
            {
                Assert.NotNull(query);
                Assert.NotNull(key);
                long sequences = query[..^2].Aggregate(1L, (product, size) => product * size);
                long queries = query[^2], keys = key[^2];
                Add("QKᵀ", sequences * 2 * queries * query[^1] * keys);
                Add("attention·V", sequences * 2 * queries * keys * value[^1]);
            });
            Trace(attention.OutputProjection, "output projection");
            if (block.FeedForward is SwiGlu swiGlu)
            {
                Trace(swiGlu.W1, "W1");
                Trace(swiGlu.W2, "W2");
                Trace(swiGlu.W3, "W3");
            }
            else
            {
                var silu = Assert.IsType<SiluFeedForward>(block.FeedForward);
                Trace(silu.W1, "W1");
                Trace(silu.W2, "W2");
            }
        }
        if (model.LanguageModelHead is { } head)
        {
            Trace(head, "LM head");
        }
        else
        {
            var hook = model.FinalNorm!.register_forward_hook((_, _, output) =>
            {
                Add("LM head", 2 * (output.numel() / config.DModel) * config.DModel * config.VocabSize);
                return output;
            });
            removeHooks.Add(hook.remove);
        }

        using (no_grad())
        using (var tokenIds = randint(config.VocabSize, [batchSize, config.ContextLength], ScalarType.Int64, generator: generator))
        using (var logits = model.call(tokenIds))
        {
            Assert.Equal([batchSize, config.ContextLength, config.VocabSize], logits.shape);
        }
        removeHooks.ForEach(remove => remove());

        int ffnMatrices = config.Ffn == FeedForwardKind.Swiglu ? 3 : 2;
        Assert.Equal((4 + ffnMatrices) * config.NumLayers + (config.TieEmbeddings ? 0 : 1), linearCalls);
        var predicted = FlopAccounting.ForwardByComponent(config, batchSize).ToDictionary(row => row.Component, row => row.Total);
        Assert.Equal(predicted.OrderBy(pair => pair.Key), traced.OrderBy(pair => pair.Key));
        Assert.Equal(traced.Values.Sum(), FlopAccounting.Forward(config, batchSize));
    }

    [Fact]
    public void Forward_OfGpt2Xl_IsTheHandCountOfItsMatmuls()
    {
        const long t = 1024, d = 1600, dFf = 6400, v = 50_257, layers = 48;
        long perBlock =
            3 * 2 * t * d * d     // Q, K, V projections
            + 2 * t * d * t       // QKᵀ over 25 heads of 64
            + 2 * t * t * d       // attention·V
            + 2 * t * d * d       // output projection
            + 3 * 2 * t * d * dFf; // W1, W2, W3
        long lmHead = 2 * t * d * v;

        long forward = FlopAccounting.Forward(ModelPresets.Get("gpt2-xl"));

        Assert.Equal(layers * perBlock + lmHead, forward);
        Assert.Equal(4_513_336_524_800, forward); // ≈ 4.5 TFLOPs per 1024-token sequence
    }

    [Fact]
    public void TrainingStep_IsThreeForwardsPlusFourteenFlopsPerParameter()
    {
        long forward = FlopAccounting.Forward(Small, batchSize: 5);

        Assert.Equal(2 * forward, FlopAccounting.Backward(Small, batchSize: 5));
        Assert.Equal(14 * ParameterAccounting.Total(Small), FlopAccounting.AdamWStep(Small));
        Assert.Equal(3 * forward + 14 * ParameterAccounting.Total(Small), FlopAccounting.TrainingStep(Small, batchSize: 5));
    }

    [Fact]
    public void Forward_WhenCountsPass64Bits_ThrowsOverflow()
    {
        var huge = new TransformerConfig(
            VocabSize: int.MaxValue, ContextLength: int.MaxValue, DModel: 1 << 30, NumLayers: 1, NumHeads: 1, DFf: 1, RopeTheta: 10_000);

        Assert.Throws<OverflowException>(() => FlopAccounting.Forward(huge));
    }
}
