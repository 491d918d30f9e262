using SharpLM.Accounting;
using SharpLM.Model;

namespace SharpLM.Tests.Accounting;

public class ActivationAccountingTests
{
    // B = 3 sequences of T = 12 tokens, d = 16, h = 4, d_ff = 40, V = 37, L = 2; B·T = 36.
    static readonly TransformerConfig Small = new(
        VocabSize: 37, ContextLength: 12, DModel: 16, NumLayers: 2, NumHeads: 4, DFf: 40, RopeTheta: 10_000);

    [Fact]
    public void ByComponent_OfASmallModel_MatchesAHandCount()
    {
        (string, long, int)[] byHand =
        [
            ("RMSNorms (ln1, ln2)", 2 * 36 * 16, 2),   // 1152: ln1 and ln2 outputs
            ("Q/K/V projections", 3 * 36 * 16, 2),     // 1728
            ("QKᵀ", 3 * 4 * 12 * 12, 2),               // 1728: B·h·T²
            ("softmax", 3 * 4 * 12 * 12, 2),           // 1728
            ("weighted sum of values", 36 * 16, 2),    // 576
            ("output projection", 36 * 16, 2),         // 576
            ("W1", 36 * 40, 2),                        // 1440
            ("W3", 36 * 40, 2),                        // 1440
            ("SiLU", 36 * 40, 2),                      // 1440
            ("SiLU ⊙ W3", 36 * 40, 2),                 // 1440
            ("W2", 36 * 16, 2),                        // 576
            ("final RMSNorm", 36 * 16, 1),             // 576
            ("output embedding", 36 * 37, 1),          // 1332: the logits
            ("cross-entropy", 36 * 37, 1),             // 1332: their softmax
        ];

        var rows = ActivationAccounting.ByComponent(Small, batchSize: 3);

        Assert.Equal(byHand, rows.Select(row => (row.Component, row.Each, row.Times)));
        // 2 blocks · 13,824 + 576 + 2·1332
        Assert.Equal(30_888, ActivationAccounting.Total(Small, batchSize: 3));
    }

    [Fact]
    public void ByComponent_WithoutNormsAndWithTheSiluFfn_DropsTheirRows()
    {
        var ablated = Small with { Norm = NormPlacement.None, FinalNorm = false, Ffn = FeedForwardKind.Silu, Position = PositionEncoding.Nope };
        (string, long, int)[] byHand =
        [
            ("Q/K/V projections", 3 * 36 * 16, 2),
            ("QKᵀ", 3 * 4 * 12 * 12, 2),
            ("softmax", 3 * 4 * 12 * 12, 2),
            ("weighted sum of values", 36 * 16, 2),
            ("output projection", 36 * 16, 2),
            ("W1", 36 * 40, 2),                        // the handout's list: W1, SiLU, W2
            ("SiLU", 36 * 40, 2),
            ("W2", 36 * 16, 2),
            ("output embedding", 36 * 37, 1),
            ("cross-entropy", 36 * 37, 1),
        ];

        var rows = ActivationAccounting.ByComponent(ablated, batchSize: 3);

        Assert.Equal(byHand, rows.Select(row => (row.Component, row.Each, row.Times)));
        // 30,888 less two blocks' norms (2·1152), W3 and product (2·2·1440) and the final norm (576)
        Assert.Equal(30_888 - 2 * 1152 - 2 * 2 * 1440 - 576, ActivationAccounting.Total(ablated, batchSize: 3));
    }

    [Fact]
    public void Total_GrowsLinearlyWithTheBatch()
    {
        long one = ActivationAccounting.Total(Small);

        Assert.Equal(10_296, one);
        Assert.Equal(7 * one, ActivationAccounting.Total(Small, batchSize: 7));
    }

    [Fact]
    public void ByComponent_WithNonPositiveBatch_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ActivationAccounting.ByComponent(Small, batchSize: 0));
    }
}
