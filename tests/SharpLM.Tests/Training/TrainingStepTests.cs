using SharpLM.Model;
using SharpLM.Precision;
using SharpLM.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Tests.Training;

public class TrainingStepTests
{
    static readonly TransformerConfig Tiny = new(50, 16, 32, 2, 2, 64, 10_000);

    static TransformerLM Model(ulong seed = 1)
    {
        using var generator = new Generator(seed);
        return new TransformerLM(Tiny, generator: generator);
    }

    static Tensor Tokens(int batch, ulong seed)
    {
        using var generator = new Generator(seed);
        return randint(Tiny.VocabSize, [batch, Tiny.ContextLength + 1], generator: generator, dtype: ScalarType.Int64); // (batch, context + 1)
    }

    static (Tensor Inputs, Tensor Targets) Split(Tensor tokens) =>
        (tokens.narrow(1, 0, Tiny.ContextLength), tokens.narrow(1, 1, Tiny.ContextLength));

    [Fact]
    public void Take_InFp32_EqualsTheStepComposedFromTorchSharpsLossAndClipping()
    {
        using var model = Model();
        using var reference = Model();
        using var tokens = Tokens(4, 2);
        var (inputs, targets) = Split(tokens);
        // SGD, because an Adam step is close to sign(g) at first and turns rounding-level gradient differences
        // into a full step; AdamW's parity with optim.AdamW is AdamWTests' concern.
        using var optimizer = optim.SGD(model.parameters(), 0.5);
        using var builtIn = optim.SGD(reference.parameters(), 0.5);
        var step = new TrainingStep(model, optimizer, PrecisionSetting.Fp32, gradientClip: 0.5);

        var result = step.Take(() => (inputs, targets), readLoss: true);

        builtIn.zero_grad();
        using var logits = reference.call(inputs);
        using var loss = nn.functional.cross_entropy(logits.reshape(-1, Tiny.VocabSize), targets.reshape(-1));
        loss.backward();
        double norm = nn.utils.clip_grad_norm_(reference.parameters(), 0.5);
        builtIn.step();

        Assert.True(result.Applied);
        Assert.Equal(loss.item<float>(), result.Loss!.Value, 5);
        Assert.Equal(norm, result.GradientNorm, 4);
        foreach (var ((name, expected), (_, actual)) in reference.named_parameters().Zip(model.named_parameters()))
        {
            Assert.True(allclose(actual.grad!, expected.grad!, 1e-5, 1e-6), $"{name}'s clipped gradient differs from the built-in's");
            Assert.True(allclose(actual, expected, 1e-5, 1e-6), $"{name} differs from the built-in step");
        }
    }

    [Fact]
    public void Take_WithTwoAccumulationSteps_EqualsOneStepOnTheDoubleBatch()
    {
        using var accumulated = Model();
        using var whole = Model();
        using var tokens = Tokens(8, 3);
        using var accumulatedOptimizer = optim.SGD(accumulated.parameters(), 0.5);
        using var wholeOptimizer = optim.SGD(whole.parameters(), 0.5);
        var accumulatedStep = new TrainingStep(accumulated, accumulatedOptimizer, PrecisionSetting.Fp32, gradientClip: 1.0, accumulationSteps: 2);
        var wholeStep = new TrainingStep(whole, wholeOptimizer, PrecisionSetting.Fp32, gradientClip: 1.0);

        for (int repeat = 0; repeat < 3; repeat++)
        {
            int half = 0;
            var a = accumulatedStep.Take(() => Split(tokens.narrow(0, 4 * half++, 4)), readLoss: true);
            var w = wholeStep.Take(() => Split(tokens), readLoss: true);
            Assert.Equal(w.Loss!.Value, a.Loss!.Value, 5);
            Assert.Equal(w.GradientNorm, a.GradientNorm, 5);
            Assert.Equal(2, half);
        }
        foreach (var ((name, expected), (_, actual)) in whole.named_parameters().Zip(accumulated.named_parameters()))
        {
            Assert.True(allclose(actual, expected, 1e-5, 1e-5), $"{name} differs between K = 2 × batch 4 and batch 8");
        }
    }

    sealed class Doubling : IGradientReduction
    {
        public int Calls { get; private set; }

        public void Reduce(IReadOnlyList<Parameter> parameters)
        {
            Calls++;
            foreach (var parameter in parameters)
            {
                HeldScalarMath.WithScalar(2, parameter.grad!.mul_);
            }
        }
    }

    [Fact]
    public void Take_AppliesTheReductionOnceAfterAllMicroBatchesAndBeforeClipping()
    {
        using var plain = Model();
        using var reduced = Model();
        using var tokens = Tokens(4, 4);
        using var plainOptimizer = new SharpLM.Training.AdamW(plain.parameters(), 1e-2);
        using var reducedOptimizer = new SharpLM.Training.AdamW(reduced.parameters(), 1e-2);
        var reduction = new Doubling();

        var p = new TrainingStep(plain, plainOptimizer, PrecisionSetting.Fp32, null, accumulationSteps: 2).Take(() => Split(tokens), false);
        var r = new TrainingStep(reduced, reducedOptimizer, PrecisionSetting.Fp32, null, accumulationSteps: 2, reduction).Take(() => Split(tokens), false);

        Assert.Equal(1, reduction.Calls);
        Assert.Equal(2 * p.GradientNorm, r.GradientNorm, 4);
    }

    [Fact]
    public void Take_WhenTheGradientIsNotFinite_LeavesTheParametersUntouched()
    {
        using var model = Model();
        using var tokens = Tokens(2, 5);
        using var optimizer = new SharpLM.Training.AdamW(model.parameters(), 1e-2);
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        using (no_grad())
        {
            model.LanguageModelHead!.Weight[0, 0] = tensor(float.PositiveInfinity);
            before[^1][0, 0] = tensor(float.PositiveInfinity);
        }

        var result = new TrainingStep(model, optimizer, PrecisionSetting.Fp32, 1.0).Take(() => Split(tokens), readLoss: true);

        Assert.False(result.Applied);
        Assert.False(double.IsFinite(result.GradientNorm));
        foreach (var (expected, actual) in before.Zip(model.parameters()))
        {
            Assert.True(expected.eq(actual).all().item<bool>(), "a parameter changed although the update was skipped");
        }
    }

    [Fact]
    public void Take_InBf16_KeepsFloat32MasterWeightsGradientsAndOptimizerStateAndTracksFp32()
    {
        using var mixed = Model();
        using var full = Model();
        using var tokens = Tokens(4, 6);
        using var mixedOptimizer = new SharpLM.Training.AdamW(mixed.parameters(), 3e-3);
        using var fullOptimizer = new SharpLM.Training.AdamW(full.parameters(), 3e-3);
        var mixedStep = new TrainingStep(mixed, mixedOptimizer, PrecisionSetting.Bf16, 1.0);
        var fullStep = new TrainingStep(full, fullOptimizer, PrecisionSetting.Fp32, 1.0);

        StepResult? m = null, f = null;
        for (int i = 0; i < 5; i++)
        {
            m = mixedStep.Take(() => Split(tokens), readLoss: true);
            f = fullStep.Take(() => Split(tokens), readLoss: true);
        }

        Assert.All(mixed.parameters(), p =>
        {
            Assert.Equal(ScalarType.Float32, p.dtype);
            Assert.Equal(ScalarType.Float32, p.grad!.dtype);
        });
        var state = mixedOptimizer.state_dict();
        Assert.All(state.State.Cast<SharpLM.Training.AdamW.State>().SelectMany(s => new[] { s.M, s.V }), t => Assert.Equal(ScalarType.Float32, t.dtype));
        Assert.InRange(m!.Loss!.Value - f!.Loss!.Value, -0.02, 0.02);
        Assert.InRange(m.GradientNorm / f.GradientNorm, 0.95, 1.05);
    }
}
