using SharpLM.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Tests.Training;

public class SgdTests
{
    [Fact]
    public void Step_WithConstantGradient_FollowsEquation20()
    {
        // Loss c·θ has the constant gradient c, so θ_T = θ₀ − Σₜ α/√(t+1)·c.
        var parameter = new Parameter(tensor(new double[] { 1.0, -2.0 }));
        var gradient = tensor(new double[] { 0.5, 3.0 });
        var optimizer = new Sgd([parameter], lr: 0.1);
        for (int t = 0; t < 5; t++)
        {
            optimizer.zero_grad();
            (parameter * gradient).sum().backward();
            optimizer.step();
        }
        double decay = Enumerable.Range(0, 5).Sum(t => 0.1 / Math.Sqrt(t + 1));
        TensorAssert.Close(tensor(new double[] { 1.0 - decay * 0.5, -2.0 - decay * 3.0 }), parameter, atol: 1e-12);
        Assert.Equal(5, ((Sgd.State)optimizer.state_dict().State[0]).T);
    }

    [Fact]
    public void Constructor_WithNegativeLearningRate_ThrowsNamingIt()
    {
        var exception = Assert.Throws<ArgumentException>(() => new Sgd([new Parameter(zeros(1))], lr: -0.5));
        Assert.Equal("lr", exception.ParamName);
        Assert.Contains("-0.5", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Step_WithTwoParamGroups_UsesEachGroupsLearningRate()
    {
        var first = new Parameter(zeros(1, dtype: ScalarType.Float64));
        var second = new Parameter(zeros(1, dtype: ScalarType.Float64));
        var optimizer = new Sgd([new Sgd.ParamGroup([first], lr: 1.0), new Sgd.ParamGroup([second])], lr: 0.25);
        first.Plus(second).sum().backward();
        optimizer.step();
        Assert.Equal(-1.0, first.item<double>());
        Assert.Equal(-0.25, second.item<double>());
    }

    [Fact]
    public void StateDict_RoundTrip_RestoresStepCount()
    {
        var parameter = new Parameter(ones(2));
        var optimizer = new Sgd([parameter], lr: 0.1);
        for (int i = 0; i < 3; i++)
        {
            optimizer.zero_grad();
            parameter.sum().backward();
            optimizer.step();
        }
        using var stream = new MemoryStream();
        optimizer.save_state_dict(new BinaryWriter(stream));
        stream.Position = 0;
        var restored = new Sgd([new Parameter(ones(2))], lr: 0.7);
        restored.load_state_dict(new BinaryReader(stream));
        Assert.Equal(3, ((Sgd.State)restored.state_dict().State[0]).T);
        Assert.Equal(0.1, restored.ParamGroups.First().LearningRate);
    }
}
