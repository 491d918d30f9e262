using SharpLM.Accounting;
using SharpLM.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Tests.Accounting;

public class ParameterAccountingTests
{
    public static TheoryData<TransformerConfig> Configs =>
    [
        new TransformerConfig(VocabSize: 37, ContextLength: 12, DModel: 16, NumLayers: 2, NumHeads: 4, DFf: 40, RopeTheta: 10_000),
        new TransformerConfig(VocabSize: 5, ContextLength: 3, DModel: 4, NumLayers: 1, NumHeads: 2, DFf: 8, RopeTheta: 100),
        TransformerConfig.TinyStories,
        TransformerConfig.TinyStories with { Norm = NormPlacement.None, FinalNorm = false },
        TransformerConfig.TinyStories with { Norm = NormPlacement.Post, Position = PositionEncoding.Nope },
        TransformerConfig.TinyStories with { Ffn = FeedForwardKind.Silu, DFf = 2048, TieEmbeddings = true },
        ModelPresets.Get("gpt2-small"),
        ModelPresets.Get("gpt2-xl"),
    ];

    [Theory]
    [MemberData(nameof(Configs))]
    public void ByComponent_EqualsTheNumelOfABuiltModelGroupedByComponent(TransformerConfig config)
    {
        // The meta device has shapes but no storage: GPT-2 XL is counted without allocating its 8.5 GB.
        using var model = new TransformerLM(config, new Device(DeviceType.META));
        var built = model.named_parameters()
            .GroupBy(named => ComponentOf(named.name), named => named.parameter.numel())
            .ToDictionary(group => group.Key, group => group.Sum());
        var firstBlock = model.named_parameters()
            .Where(named => named.name.StartsWith("layers.0.", StringComparison.Ordinal))
            .GroupBy(named => ComponentOf(named.name), named => named.parameter.numel())
            .ToDictionary(group => group.Key, group => group.Sum());

        var rows = ParameterAccounting.ByComponent(config);

        Assert.Equal(built.OrderBy(pair => pair.Key), rows.ToDictionary(row => row.Component, row => row.Total).OrderBy(pair => pair.Key));
        Assert.All(rows.Where(row => row.Times > 1), row => Assert.Equal(firstBlock[row.Component], row.Each));
        Assert.Equal(model.ParameterCount, ParameterAccounting.Total(config));
    }

    [Fact]
    public void Total_OfGpt2Xl_Is2127057600()
    {
        // 2·50257·1600 + 48·(4·1600² + 3·1600·6400 + 2·1600) + 1600: transformer_accounting (a)
        Assert.Equal(2_127_057_600, ParameterAccounting.Total(ModelPresets.Get("gpt2-xl")));
    }

    [Fact]
    public void ByComponent_WithHeadsThatDoNotDivideDModel_Throws()
    {
        var config = TransformerConfig.TinyStories with { NumHeads = 7 };

        Assert.Throws<ArgumentException>(() => ParameterAccounting.ByComponent(config));
    }

    /// <summary>The accounting row that owns a state-dict key of the CS336 reference layout.</summary>
    static string ComponentOf(string name) => name switch
    {
        "token_embeddings.weight" => "token embeddings",
        "ln_final.weight" => "final RMSNorm",
        "lm_head.weight" => "LM head",
        _ when name.EndsWith(".ln1.weight", StringComparison.Ordinal) || name.EndsWith(".ln2.weight", StringComparison.Ordinal) => "RMSNorms (ln1, ln2)",
        _ when name.Contains(".attn.q_proj.", StringComparison.Ordinal)
            || name.Contains(".attn.k_proj.", StringComparison.Ordinal)
            || name.Contains(".attn.v_proj.", StringComparison.Ordinal) => "Q/K/V projections",
        _ when name.Contains(".attn.output_proj.", StringComparison.Ordinal) => "output projection",
        _ when name.Contains(".ffn.w1.", StringComparison.Ordinal) => "W1",
        _ when name.Contains(".ffn.w2.", StringComparison.Ordinal) => "W2",
        _ when name.Contains(".ffn.w3.", StringComparison.Ordinal) => "W3",
        _ => throw new InvalidOperationException($"No accounting row for parameter {name}."),
    };
}
