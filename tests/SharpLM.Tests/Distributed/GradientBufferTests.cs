using SharpLM.Distributed;
using SharpLM.Model;
using SharpLM.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Tests.Distributed;

public sealed class GradientBufferTests
{
    static readonly TransformerConfig Tiny = new(50, 8, 16, 2, 2, 32, 10_000);

    /// <summary>One AdamW step's backward of a tiny model on a fixed batch.</summary>
    static void Backward(TransformerLM model, int seed)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var tokens = randint(Tiny.VocabSize, [2, Tiny.ContextLength + 1], generator: generator, dtype: ScalarType.Int64);
        var logits = model.call(tokens.narrow(1, 0, Tiny.ContextLength));
        Losses.CrossEntropy(logits, tokens.narrow(1, 1, Tiny.ContextLength)).backward();
    }

    static float[] Gradients(IEnumerable<Parameter> parameters)
    {
        using var scope = NewDisposeScope();
        return cat([.. parameters.Select(p => p.grad!.reshape(-1))]).data<float>().ToArray();
    }

    [Fact]
    public void Bind_KeepsTheGradientsAndMakesThemViewsOfTheBuffer()
    {
        using var generator = new Generator(1);
        using var model = new TransformerLM(Tiny, generator: generator);
        List<Parameter> parameters = [.. model.parameters()];
        Backward(model, seed: 2);
        float[] before = Gradients(parameters);
        using var buffer = new GradientBuffer();

        var flat = buffer.Bind(parameters);

        Assert.Equal(parameters.Sum(p => p.numel()), flat.numel());
        Assert.Equal(before, flat.data<float>().ToArray());
        Assert.Equal(before, Gradients(parameters));
        HeldScalarMath.WithScalar(3, flat.fill_);
        Assert.All(Gradients(parameters), value => Assert.Equal(3, value));
    }

    [Fact]
    public void TheNextStepsBackward_AccumulatesIntoTheBuffer_AsIntoGradientsOfTheirOwn()
    {
        using var generator = new Generator(1);
        using var model = new TransformerLM(Tiny, generator: generator);
        using var referenceGenerator = new Generator(1);
        using var reference = new TransformerLM(Tiny, generator: referenceGenerator);
        List<Parameter> parameters = [.. model.parameters()];
        using var optimizer = new SharpLM.Training.AdamW(parameters, 1e-3);
        using var buffer = new GradientBuffer();
        Backward(model, seed: 2);
        var flat = buffer.Bind(parameters);

        optimizer.zero_grad();
        Backward(model, seed: 3);
        Backward(model, seed: 4);
        Backward(reference, seed: 3);
        Backward(reference, seed: 4);

        Assert.Equal(Gradients(reference.parameters()), flat.data<float>().ToArray());
        Assert.Same(flat, buffer.Bind(parameters));
    }

    [Fact]
    public void AGradientReplacedAfterBinding_IsBoundAgainWithItsValues()
    {
        using var generator = new Generator(1);
        using var model = new TransformerLM(Tiny, generator: generator);
        List<Parameter> parameters = [.. model.parameters()];
        Backward(model, seed: 2);
        using var buffer = new GradientBuffer();
        buffer.Bind(parameters);

        parameters[3].grad = HeldScalarMath.WithScalar(7, value => full_like(parameters[3], value));
        var flat = buffer.Bind(parameters);

        long offset = parameters.Take(3).Sum(p => p.numel());
        Assert.All(flat.narrow(0, offset, parameters[3].numel()).data<float>().ToArray(), value => Assert.Equal(7, value));
        flat.zero_();
        Assert.All(Gradients(parameters), value => Assert.Equal(0, value));
    }

    [Fact]
    public void TheBuffer_OutlivesTheDisposeScopeOfTheStepThatBoundIt()
    {
        using var generator = new Generator(1);
        using var model = new TransformerLM(Tiny, generator: generator);
        List<Parameter> parameters = [.. model.parameters()];
        using var buffer = new GradientBuffer();
        using (NewDisposeScope())
        {
            Backward(model, seed: 2);
            buffer.Bind(parameters);
        }
        float[] before = Gradients(parameters);

        Assert.Equal(before, buffer.Bind(parameters).data<float>().ToArray());
    }

    [Fact]
    public void Bind_LeavesOutParametersWithoutAGradient()
    {
        using var withGradient = new Parameter(zeros(3));
        using var without = new Parameter(zeros(5));
        withGradient.grad = ones(3);
        using var buffer = new GradientBuffer();

        Assert.Equal([1f, 1f, 1f], buffer.Bind([without, withGradient]).data<float>().ToArray());
    }
}
