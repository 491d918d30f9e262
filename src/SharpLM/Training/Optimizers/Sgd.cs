using System.Diagnostics.CodeAnalysis;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>
/// Stochastic gradient descent with the decaying rate of eq. 20: θₜ₊₁ = θₜ − α/√(t+1)·∇L(θₜ), where t counts
/// the updates each parameter has received.
/// </summary>
[SuppressMessage("Naming", "CA1707", Justification = "TorchSharp's optimizer API uses snake_case.")]
public sealed class Sgd : OptimizerHelper
{
    public Sgd(IEnumerable<Parameter> parameters, double lr = 1e-3)
        : this([new ParamGroup(parameters)], lr)
    {
    }

    public Sgd(IEnumerable<ParamGroup> parameterGroups, double lr = 1e-3)
    {
        _defaults = new Options { LearningRate = HyperParameter.NonNegative(lr, nameof(lr)) };
        _parameter_groups = [];
        foreach (var group in parameterGroups)
        {
            add_param_group(group);
        }
    }

    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        double lr = group.Options.LearningRate!.Value;
        foreach (var parameter in group.Parameters)
        {
            var gradient = parameter.grad;
            if (gradient is null)
            {
                continue;
            }
            var state = (State)_state[parameter.Handle];
            using var alpha = (-lr / Math.Sqrt(state.T + 1)).ToScalar(); // held: see Scalars
            parameter.add_(gradient, alpha); // eq. 20
            state.T++;
        }
    }, closure);

    public override void add_param_group(TorchSharp.Modules.ParamGroup param_group)
    {
        ArgumentNullException.ThrowIfNull(param_group);
        var defaults = (Options)_defaults;
        param_group.Options ??= new Options();
        var options = (Options)param_group.Options;
        options.LearningRate = HyperParameter.NonNegative(options.LearningRate ?? defaults.LearningRate!.Value, "lr");
        options.InitialLearningRate = options.LearningRate.Value;
        param_group.Parameters = param_group.Parameters.ToList();
        _parameter_groups.Add(param_group);
        foreach (var parameter in param_group.Parameters)
        {
            _state[parameter.Handle] = new State(parameter);
        }
    }

    public sealed class Options : OptimizerOptions
    {
    }

    public sealed class ParamGroup : ParamGroup<Options>
    {
        public ParamGroup()
        {
        }

        public ParamGroup(IEnumerable<Parameter> parameters, double? lr = null)
            : base(parameters, new Options { LearningRate = lr })
        {
        }
    }

    /// <summary>Per-parameter state: the number of updates t.</summary>
    public sealed class State(Parameter parameter) : OptimizerState(parameter)
    {
        public long T { get; set; }

        public override void Initialize(OptimizerOptions options) => T = 0;

        public override void SaveStateDict(BinaryWriter writer) => writer.Write(T);

        public override void LoadStateDict(BinaryReader reader) => T = reader.ReadInt64();

        public override void LoadStateDict(OptimizerState source) => T = ((State)source).T;

        public override bool ApproximatelyEquals(OptimizerState other) => other is State state && state.T == T;
    }
}
