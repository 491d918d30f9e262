using SharpLM.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Tests.Training;

[Collection(GlobalRandomCollection.Name)]
public class AdamWTests
{
    const double Lr = 1e-3, Beta1 = 0.9, Beta2 = 0.999, Eps = 1e-8, WeightDecay = 0.01;

    static TorchSharp.Modules.AdamW Reference(IEnumerable<Parameter> parameters) =>
        new(parameters, lr: Lr, beta1: Beta1, beta2: Beta2, eps: Eps, weight_decay: WeightDecay);

    /// <summary>The handout's test problem: learn y = [x₀ + x₁, −x₂] with loss Σ(y − ŷ)².</summary>
    static void Train(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, IReadOnlyList<Tensor> inputs, Action<int>? beforeStep = null)
    {
        for (int i = 0; i < inputs.Count; i++)
        {
            using var scope = NewDisposeScope();
            beforeStep?.Invoke(i);
            optimizer.zero_grad();
            var x = inputs[i];
            var y = stack([x[0].Plus(x[1]), -x[2]]);
            var loss = (y - model.call(x)).Squared().sum();
            loss.backward();
            optimizer.step();
        }
    }

    static List<Tensor> Inputs(int count, ulong seed)
    {
        using var generator = new Generator(seed);
        return Enumerable.Range(0, count).Select(_ => rand(3, generator: generator)).ToList();
    }

    static (TorchSharp.Modules.Linear Ours, TorchSharp.Modules.Linear Theirs) TwinModels()
    {
        manual_seed(42);
        var ours = nn.Linear(3, 2, hasBias: false);
        var theirs = nn.Linear(3, 2, hasBias: false);
        theirs.load_state_dict(ours.state_dict());
        return (ours, theirs);
    }

    [Fact]
    public void Step_ThousandStepsOfHandoutProblem_EqualsTorchSharpAdamW()
    {
        var (ours, theirs) = TwinModels();
        var inputs = Inputs(1000, seed: 42);
        Train(ours, new SharpLM.Training.AdamW(ours.parameters(), Lr, Beta1, Beta2, Eps, WeightDecay), inputs);
        Train(theirs, Reference(theirs.parameters()), inputs);
        TensorAssert.Close(theirs.weight, ours.weight, atol: 1e-4, rtol: 0);
        Assert.False(ours.weight.eq(TwinModels().Ours.weight).all().item<bool>(), "training did not move the weights");
    }

    [Fact]
    public void Step_WhenLearningRateChangesBetweenSteps_EqualsTorchSharpAdamW()
    {
        var (ours, theirs) = TwinModels();
        var inputs = Inputs(200, seed: 43);
        var ourOptimizer = new SharpLM.Training.AdamW(ours.parameters(), Lr, Beta1, Beta2, Eps, WeightDecay);
        var theirOptimizer = Reference(theirs.parameters());
        Train(ours, ourOptimizer, inputs, i => ourOptimizer.ParamGroups.First().LearningRate = LearningRateSchedule.CosineWithWarmup(i, 1e-2, 1e-3, 20, 150));
        Train(theirs, theirOptimizer, inputs, i => theirOptimizer.ParamGroups.First().LearningRate = LearningRateSchedule.CosineWithWarmup(i, 1e-2, 1e-3, 20, 150));
        TensorAssert.Close(theirs.weight, ours.weight, atol: 1e-4, rtol: 0);
    }

    [Fact]
    public void Step_WithTwoParamGroups_UsesEachGroupsLearningRate()
    {
        manual_seed(7);
        var ours = nn.Sequential(nn.Linear(3, 4, hasBias: false), nn.Linear(4, 2, hasBias: false));
        var theirs = nn.Sequential(nn.Linear(3, 4, hasBias: false), nn.Linear(4, 2, hasBias: false));
        theirs.load_state_dict(ours.state_dict());
        var ourLayers = ours.children().Select(c => c.parameters().ToList()).ToList();
        var theirLayers = theirs.children().Select(c => c.parameters().ToList()).ToList();

        var ourOptimizer = new SharpLM.Training.AdamW(
            [new SharpLM.Training.AdamW.ParamGroup(ourLayers[0], lr: 1e-2), new SharpLM.Training.AdamW.ParamGroup(ourLayers[1], lr: 1e-4)],
            Lr, Beta1, Beta2, Eps, WeightDecay);
        var theirOptimizer = new TorchSharp.Modules.AdamW(
            [new TorchSharp.Modules.AdamW.ParamGroup(theirLayers[0], lr: 1e-2, beta1: Beta1, beta2: Beta2, eps: Eps, weight_decay: WeightDecay),
             new TorchSharp.Modules.AdamW.ParamGroup(theirLayers[1], lr: 1e-4, beta1: Beta1, beta2: Beta2, eps: Eps, weight_decay: WeightDecay)]);

        var inputs = Inputs(300, seed: 44);
        Train(ours, ourOptimizer, inputs);
        Train(theirs, theirOptimizer, inputs);
        foreach (var (expected, actual) in theirs.parameters().Zip(ours.parameters()))
        {
            TensorAssert.Close(expected, actual, atol: 1e-4, rtol: 0);
        }
        Assert.Equal([1e-2, 1e-4], ourOptimizer.ParamGroups.Select(g => g.LearningRate));
    }

    [Fact]
    public void StateDict_SavedAndLoadedIntoFreshOptimizer_ContinuesBitIdentically()
    {
        var (straight, resumed) = TwinModels();
        var inputs = Inputs(40, seed: 45);
        var straightOptimizer = new SharpLM.Training.AdamW(straight.parameters(), Lr, Beta1, Beta2, Eps, WeightDecay);
        Train(straight, straightOptimizer, inputs);

        var firstOptimizer = new SharpLM.Training.AdamW(resumed.parameters(), 5e-2, Beta1, Beta2, Eps, WeightDecay);
        firstOptimizer.ParamGroups.First().LearningRate = Lr;
        Train(resumed, firstOptimizer, inputs.Take(20).ToList());
        using var stream = new MemoryStream();
        firstOptimizer.save_state_dict(new BinaryWriter(stream));

        var secondOptimizer = new SharpLM.Training.AdamW(resumed.parameters(), lr: 0.5, weightDecay: 0);
        stream.Position = 0;
        secondOptimizer.load_state_dict(new BinaryReader(stream));
        Train(resumed, secondOptimizer, inputs.Skip(20).ToList());

        TensorAssert.Equal(straight.weight, resumed.weight);
        var state = (SharpLM.Training.AdamW.State)secondOptimizer.state_dict().State[0];
        Assert.Equal(40, state.Step);
    }

    [Theory]
    [InlineData(-1e-3, 0.9, 0.999, 1e-8, 0.01, "lr")]
    [InlineData(1e-3, 1.0, 0.999, 1e-8, 0.01, "beta1")]
    [InlineData(1e-3, -0.1, 0.999, 1e-8, 0.01, "beta1")]
    [InlineData(1e-3, 0.9, 1.5, 1e-8, 0.01, "beta2")]
    [InlineData(1e-3, 0.9, 0.999, -1e-8, 0.01, "eps")]
    [InlineData(1e-3, 0.9, 0.999, 1e-8, -0.01, "weightDecay")]
    public void Constructor_WithInvalidHyperParameter_ThrowsNamingIt(double lr, double beta1, double beta2, double eps, double weightDecay, string name)
    {
        var parameter = new Parameter(zeros(2));
        var exception = Assert.Throws<ArgumentException>(() => new SharpLM.Training.AdamW([parameter], lr, beta1, beta2, eps, weightDecay));
        Assert.Equal(name, exception.ParamName);
        Assert.StartsWith(name, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Step_WithoutGradient_LeavesParameterAndStepCountUntouched()
    {
        var parameter = new Parameter(ones(3));
        var optimizer = new SharpLM.Training.AdamW([parameter]);
        optimizer.step();
        TensorAssert.Equal(ones(3), parameter);
        Assert.Equal(0, ((SharpLM.Training.AdamW.State)optimizer.state_dict().State[0]).Step);
    }
}
