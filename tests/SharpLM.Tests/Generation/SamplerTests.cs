using SharpLM.Generation;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Tests.Generation;

public class SamplerTests
{
    static readonly float[] Distribution = [0.05f, 0.4f, 0.1f, 0.3f, 0.15f];

    [Theory]
    [InlineData(0.35, new[] { 1 })]
    [InlineData(0.5, new[] { 1, 3 })]
    [InlineData(0.75, new[] { 1, 3, 4 })]
    [InlineData(0.9, new[] { 1, 3, 4, 2 })]
    [InlineData(1.0, new[] { 0, 1, 2, 3, 4 })]
    public void TopP_OnHandBuiltDistribution_KeepsExactlyTheNucleusRenormalised(double topP, int[] nucleus)
    {
        var result = Sampler.TopP(tensor(Distribution), topP).data<float>().ToArray();
        double mass = nucleus.Sum(i => Distribution[i]);
        for (int i = 0; i < Distribution.Length; i++)
        {
            double expected = nucleus.Contains(i) ? Distribution[i] / mass : 0;
            Assert.Equal(expected, result[i], 1e-6);
        }
    }

    [Fact]
    public void TemperatureSoftmax_EqualsSoftmaxOfScaledLogits()
    {
        var logits = tensor(new float[] { 1, 2, 3, 0.5f });
        TensorAssert.Close(softmax(logits.Over(0.7), -1), Sampler.TemperatureSoftmax(logits, 0.7));
    }

    [Fact]
    public void Sample_WithTemperatureZero_IsArgmax()
    {
        var logits = tensor(new float[] { 0.1f, 2.5f, -1, 2.4f });
        Assert.Equal(1, Sampler.Sample(logits, temperature: 0, topP: 1, generator: null));
    }

    [Fact]
    public void Sample_WithTinyTemperature_ConvergesToArgmax()
    {
        var logits = tensor(new float[] { 0.1f, 2.5f, -1, 2.4f });
        using var generator = new Generator(1);
        Assert.All(Enumerable.Range(0, 50), _ => Assert.Equal(1, Sampler.Sample(logits, 1e-3, 1, generator)));
    }

    [Fact]
    public void Sample_WithSameSeed_GivesSameTokens()
    {
        var logits = tensor(new float[] { 1, 1.2f, 0.9f, 1.1f, 0.5f });
        int[] Draw()
        {
            using var generator = new Generator(42);
            return Enumerable.Range(0, 30).Select(_ => Sampler.Sample(logits, 1.0, 0.95, generator)).ToArray();
        }
        Assert.Equal(Draw(), Draw());
    }

    [Fact]
    public void Sample_NeverPicksOutsideTheNucleus()
    {
        var logits = tensor(Distribution).log();
        using var generator = new Generator(7);
        var seen = Enumerable.Range(0, 300).Select(_ => Sampler.Sample(logits, 1.0, 0.5, generator)).ToHashSet();
        Assert.Equal(new HashSet<int> { 1, 3 }, seen);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    public void TopP_OutsideZeroOne_Throws(double topP)
    {
        Assert.Throws<ArgumentException>(() => Sampler.TopP(tensor(Distribution), topP));
    }
}
