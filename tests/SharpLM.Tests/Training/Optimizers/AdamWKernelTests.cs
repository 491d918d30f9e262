using SharpLM.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Tests.Training;

/// <summary>The fused AdamW kernel against the reference kernel and against Algorithm 2 written out in double precision.</summary>
public class AdamWKernelTests
{
    const double Beta1 = 0.9, Beta2 = 0.95, Eps = 1e-8, WeightDecay = 0.1;

    /// <summary>Every kernel except the reference, by name: each must give the reference's numbers.</summary>
    public static TheoryData<string> FastKernels => new(AdamWKernels.ByName.Where(k => k.Value != AdamWKernel.Reference).Select(k => k.Key));

    /// <summary>
    /// Shapes that exercise the kernel's edges: shorter than one SIMD vector, not a multiple of it, and longer
    /// than several chunks (so one parameter spans work items and work items span parameters).
    /// </summary>
    static readonly long[][] Shapes = [[3], [13, 7], [1], [(3 * FusedAdamW.ChunkLength) + 5], [64, 64], [0]];

    static List<Parameter> Parameters(ulong seed, ScalarType dtype = ScalarType.Float32)
    {
        using var generator = new Generator(seed);
        return Shapes.Select(shape => new Parameter(randn(shape, generator: generator, dtype: dtype))).ToList();
    }

    /// <summary>Fresh random gradients for each step, the same for every copy that asks with the same seed.</summary>
    static void SetGradients(IEnumerable<Parameter> parameters, Generator generator)
    {
        foreach (var parameter in parameters)
        {
            using var gradient = randn(parameter.shape, generator: generator, dtype: parameter.dtype);
            parameter.grad = gradient;
        }
    }

    static SharpLM.Training.AdamW Optimizer(IEnumerable<Parameter> parameters, AdamWKernel kernel) =>
        new(parameters, lr: 1e-2, beta1: Beta1, beta2: Beta2, eps: Eps, weightDecay: WeightDecay) { Kernel = kernel };

    /// <summary>Runs the two optimizers in lockstep on the same gradients with a cosine schedule, so α changes every step.</summary>
    static void TrainInLockstep(SharpLM.Training.AdamW first, List<Parameter> firstParameters, SharpLM.Training.AdamW second,
        List<Parameter> secondParameters, int steps)
    {
        using var firstGenerator = new Generator(100);
        using var secondGenerator = new Generator(100);
        for (int step = 0; step < steps; step++)
        {
            double lr = LearningRateSchedule.CosineWithWarmup(step, 1e-2, 1e-3, 2, steps);
            first.ParamGroups.First().LearningRate = lr;
            second.ParamGroups.First().LearningRate = lr;
            SetGradients(firstParameters, firstGenerator);
            SetGradients(secondParameters, secondGenerator);
            first.step();
            second.step();
        }
    }

    static SharpLM.Training.AdamW.State StateOf(SharpLM.Training.AdamW optimizer, int index) =>
        (SharpLM.Training.AdamW.State)optimizer.state_dict().State[index];

    [Theory]
    [MemberData(nameof(FastKernels))]
    public void Step_OverStepsWithWeightDecayAndChangingLr_EqualsReferenceKernel(string kernelName)
    {
        var expected = Parameters(seed: 1);
        var actual = Parameters(seed: 1);
        var reference = Optimizer(expected, AdamWKernel.Reference);
        var fast = Optimizer(actual, AdamWKernels.ByName[kernelName]);

        TrainInLockstep(reference, expected, fast, actual, steps: 6);

        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(6, StateOf(fast, i).Step);
            if (expected[i].numel() == 0)
            {
                continue; // stepped without touching memory; nothing to compare
            }
            // libtorch's float sqrt is not always correctly rounded (the fused kernel's is), so θ differs by
            // float rounding; m and v do not depend on √v and come out bit-identical on x64 with FMA.
            TensorAssert.Close(expected[i], actual[i], atol: 1e-7, rtol: 1e-6);
            TensorAssert.Close(StateOf(reference, i).M, StateOf(fast, i).M, atol: 0, rtol: 1e-6);
            TensorAssert.Close(StateOf(reference, i).V, StateOf(fast, i).V, atol: 0, rtol: 1e-6);
        }
    }

    [Fact]
    public void Step_FusedKernel_EqualsAlgorithm2InDoublePrecision()
    {
        const double lr = 1e-2;
        var parameter = new Parameter(linspace(-1, 1, 37));                // 37 = four vectors and a tail
        var gradients = Enumerable.Range(1, 5).Select(t => cos(HeldScalarMath.Range(37, ScalarType.Float32).Times(t))).ToList();
        var optimizer = new SharpLM.Training.AdamW([parameter], lr, Beta1, Beta2, Eps, WeightDecay) { Kernel = AdamWKernel.Fused };

        double[] theta = linspace(-1, 1, 37).to_type(ScalarType.Float64).data<double>().ToArray();
        double[] m = new double[37], v = new double[37];
        for (int t = 1; t <= gradients.Count; t++)
        {
            parameter.grad = gradients[t - 1];
            optimizer.step();

            double[] g = gradients[t - 1].to_type(ScalarType.Float64).data<double>().ToArray();
            double alpha = lr * Math.Sqrt(1 - Math.Pow(Beta2, t)) / (1 - Math.Pow(Beta1, t));
            for (int i = 0; i < theta.Length; i++)
            {
                m[i] = (Beta1 * m[i]) + ((1 - Beta1) * g[i]);
                v[i] = (Beta2 * v[i]) + ((1 - Beta2) * g[i] * g[i]);
                theta[i] -= alpha * m[i] / (Math.Sqrt(v[i]) + Eps);
                theta[i] -= lr * WeightDecay * theta[i];
            }
        }
        TensorAssert.Close(tensor(theta), parameter, atol: 1e-6, rtol: 1e-6);
        TensorAssert.Close(tensor(m), StateOf(optimizer, 0).M, atol: 1e-7, rtol: 1e-6);
    }

    [Fact]
    public void Step_WithParametersTheFusedKernelCannotTake_UsesReferencePathForThemOnly()
    {
        // float64, a non-contiguous gradient, and an ordinary float32 parameter in one group.
        using var generator = new Generator(3);
        var doubles = new Parameter(randn([5, 9], generator: generator, dtype: ScalarType.Float64));
        var strided = new Parameter(randn([9, 5], generator: generator));
        var plain = new Parameter(randn([40], generator: generator));
        var referenceParameters = new[] { doubles, strided, plain }.Select(p => new Parameter(p.detach().clone())).ToList();
        var fusedParameters = new List<Parameter> { doubles, strided, plain };
        var reference = Optimizer(referenceParameters, AdamWKernel.Reference);
        var fused = Optimizer(fusedParameters, AdamWKernel.Fused);

        for (int step = 0; step < 3; step++)
        {
            foreach (var parameters in new[] { referenceParameters, fusedParameters })
            {
                using var scope = NewDisposeScope();
                parameters[0].grad = HeldScalarMath.WithScalar(0.5 + step, value => full([5, 9], value, dtype: ScalarType.Float64));
                parameters[1].grad = HeldScalarMath.Range(45, ScalarType.Float32).reshape(5, 9).t().Times(0.1 * (step + 1)); // (9, 5), strided
                parameters[2].grad = linspace(-2, 2 + step, 40);
            }
            Assert.False(fusedParameters[1].grad!.is_contiguous());
            reference.step();
            fused.step();
        }
        TensorAssert.Equal(referenceParameters[0], fusedParameters[0]);
        TensorAssert.Equal(referenceParameters[1], fusedParameters[1]);
        TensorAssert.Close(referenceParameters[2], fusedParameters[2], atol: 1e-7, rtol: 1e-6);
    }

    [Fact]
    public void Step_WithGroupsOfDifferentHyperParametersAndStepCounts_EqualsReferenceKernel()
    {
        // Two groups with their own lr, betas and decay; one parameter gets no gradient for two steps, so its t and αₜ differ.
        var expected = Parameters(seed: 4);
        var actual = Parameters(seed: 4);
        SharpLM.Training.AdamW Build(List<Parameter> p, AdamWKernel kernel) => new(
            [new SharpLM.Training.AdamW.ParamGroup(p.Take(3), lr: 3e-2, beta1: 0.8, beta2: 0.99, weightDecay: 0),
             new SharpLM.Training.AdamW.ParamGroup(p.Skip(3), lr: 1e-3)],
            lr: 1e-2, Beta1, Beta2, Eps, WeightDecay)
        {
            Kernel = kernel,
        };
        var reference = Build(expected, AdamWKernel.Reference);
        var fused = Build(actual, AdamWKernel.Fused);

        using var firstGenerator = new Generator(5);
        using var secondGenerator = new Generator(5);
        for (int step = 0; step < 4; step++)
        {
            bool Receives(Parameter _, int index) => step >= 2 || index != 3;
            SetGradients(expected.Where(Receives), firstGenerator);
            SetGradients(actual.Where(Receives), secondGenerator);
            reference.step();
            fused.step();
        }
        Assert.Equal(2, StateOf(fused, 3).Step);
        Assert.Equal(4, StateOf(fused, 4).Step);
        foreach (var (e, a) in expected.Zip(actual).Where(pair => pair.First.numel() > 0))
        {
            TensorAssert.Close(e, a, atol: 1e-7, rtol: 1e-6);
        }
    }

    [Fact]
    public void Kernel_ByDefault_IsFused()
    {
        using var optimizer = new SharpLM.Training.AdamW([new Parameter(zeros(2))]);
        Assert.Equal(AdamWKernel.Fused, optimizer.Kernel);
    }
}
