using SharpLM.Numerics;
using System.Diagnostics.CodeAnalysis;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>
/// AdamW (Loshchilov and Hutter, Algorithm 2) exactly as handout §4.3 writes it: moments m and v, the
/// bias-corrected rate αₜ = α·√(1−β₂ᵗ)/(1−β₁ᵗ), the update θ ← θ − αₜ·m/(√v+ε), then the decoupled weight
/// decay θ ← θ − αλθ. Hyper-parameters live per parameter group, so a schedule can change α between steps.
/// On the CPU the update of float32 parameters runs as one fused SIMD pass over all of them (<see cref="Kernel"/>).
/// </summary>
[SuppressMessage("Naming", "CA1707", Justification = "TorchSharp's optimizer API uses snake_case.")]
public sealed class AdamW : OptimizerHelper, TorchSharp.torch.optim.IBetas
{
    public AdamW(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0.01)
        : this([new ParamGroup(parameters)], lr, beta1, beta2, eps, weightDecay)
    {
    }

    public AdamW(IEnumerable<ParamGroup> parameterGroups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0.01)
    {
        _defaults = new Options
        {
            LearningRate = HyperParameter.NonNegative(lr, nameof(lr)),
            Beta1 = HyperParameter.DecayRate(beta1, nameof(beta1)),
            Beta2 = HyperParameter.DecayRate(beta2, nameof(beta2)),
            Eps = HyperParameter.NonNegative(eps, nameof(eps)),
            WeightDecay = HyperParameter.NonNegative(weightDecay, nameof(weightDecay)),
        };
        _parameter_groups = [];
        foreach (var group in parameterGroups)
        {
            add_param_group(group);
        }
    }

    public (double, double) Betas
    {
        get => (((Options)_defaults).Beta1!.Value, ((Options)_defaults).Beta2!.Value);
        set
        {
            ((Options)_defaults).Beta1 = HyperParameter.DecayRate(value.Item1, "beta1");
            ((Options)_defaults).Beta2 = HyperParameter.DecayRate(value.Item2, "beta2");
        }
    }

    /// <summary>
    /// How <see cref="step"/> computes the update; both give the same numbers to float rounding. Parameters the
    /// fused kernel cannot take (not on the CPU, not float32, not contiguous) take the reference path either way.
    /// </summary>
    public AdamWKernel Kernel { get; set; } = AdamWKernel.Fused;

    public override Tensor step(Func<Tensor>? closure = null)
    {
        Tensor? loss = null;
        if (closure is not null)
        {
            using var enableGrad = enable_grad();
            loss = closure();
        }
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var fused = new List<FusedAdamW.Segment>();
        foreach (var group in _parameter_groups.Cast<ParamGroup>())
        {
            var options = group.Options;
            double lr = options.LearningRate!.Value, beta1 = options.Beta1!.Value, beta2 = options.Beta2!.Value;
            double eps = options.Eps!.Value, weightDecay = options.WeightDecay!.Value;
            // Held scalars (see Scalars): the group's constants once, the bias-corrected rate per parameter.
            using var beta1Scalar = beta1.ToScalar();
            using var oneMinusBeta1 = (1 - beta1).ToScalar();
            using var beta2Scalar = beta2.ToScalar();
            using var oneMinusBeta2 = (1 - beta2).ToScalar();
            using var epsScalar = eps.ToScalar();
            using var decay = (1 - lr * weightDecay).ToScalar();
            foreach (var parameter in group.Parameters)
            {
                var gradient = parameter.grad;
                if (gradient is null)
                {
                    continue;
                }
                var state = (State)_state[parameter.Handle];
                state.Step++;                                                      // t starts at 1
                double stepSize = lr * Math.Sqrt(1 - Math.Pow(beta2, state.Step)) / (1 - Math.Pow(beta1, state.Step)); // αₜ
                if (Kernel == AdamWKernel.Fused && FusedAdamW.Supports(parameter, gradient, state.M, state.V))
                {
                    fused.Add(FusedAdamW.Describe(parameter, gradient, state.M, state.V,
                        FusedAdamW.Coefficients.Create(beta1, beta2, stepSize, eps, lr, weightDecay)));
                    continue;
                }
                using var negativeStepSize = (-stepSize).ToScalar();
                state.M.mul_(beta1Scalar).add_(gradient, alpha: oneMinusBeta1);               // m ← β₁m + (1−β₁)g
                state.V.mul_(beta2Scalar).addcmul_(gradient, gradient, value: oneMinusBeta2); // v ← β₂v + (1−β₂)g²
                parameter.addcdiv_(state.M, state.V.sqrt().add_(epsScalar, Scalars.One), value: negativeStepSize); // θ ← θ − αₜ·m/(√v+ε)
                parameter.mul_(decay);                                                         // θ ← θ − αλθ
            }
        }
        // One pass over all fused parameters at once, so the threads balance over the whole parameter set.
        FusedAdamW.Update(fused);
        return loss!;
    }

    public override void add_param_group(TorchSharp.Modules.ParamGroup param_group)
    {
        ArgumentNullException.ThrowIfNull(param_group);
        var defaults = (Options)_defaults;
        param_group.Options ??= new Options();
        var options = (Options)param_group.Options;
        options.LearningRate = HyperParameter.NonNegative(options.LearningRate ?? defaults.LearningRate!.Value, "lr");
        options.Beta1 = HyperParameter.DecayRate(options.Beta1 ?? defaults.Beta1!.Value, "beta1");
        options.Beta2 = HyperParameter.DecayRate(options.Beta2 ?? defaults.Beta2!.Value, "beta2");
        options.Eps = HyperParameter.NonNegative(options.Eps ?? defaults.Eps!.Value, "eps");
        options.WeightDecay = HyperParameter.NonNegative(options.WeightDecay ?? defaults.WeightDecay!.Value, "weightDecay");
        options.InitialLearningRate = options.LearningRate.Value;
        // Materialise once: a lazy sequence such as module.parameters() would make new wrappers per pass.
        param_group.Parameters = param_group.Parameters.ToList();
        _parameter_groups.Add(param_group);
        foreach (var parameter in param_group.Parameters)
        {
            var state = new State(parameter);
            state.Initialize(options);
            _state[parameter.Handle] = state;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var (_, state) in _state)
            {
                ((State)state).Dispose();
            }
        }
        base.Dispose(disposing);
    }

    public sealed class Options : OptimizerOptions
    {
        public double? Beta1 { get; set; }
        public double? Beta2 { get; set; }
        public double? Eps { get; set; }
        public double? WeightDecay { get; set; }

        public override void SaveStateDict(BinaryWriter writer)
        {
            ArgumentNullException.ThrowIfNull(writer);
            base.SaveStateDict(writer);
            writer.Write(Beta1!.Value);
            writer.Write(Beta2!.Value);
            writer.Write(Eps!.Value);
            writer.Write(WeightDecay!.Value);
        }

        public override void LoadStateDict(BinaryReader reader)
        {
            ArgumentNullException.ThrowIfNull(reader);
            base.LoadStateDict(reader);
            Beta1 = reader.ReadDouble();
            Beta2 = reader.ReadDouble();
            Eps = reader.ReadDouble();
            WeightDecay = reader.ReadDouble();
        }

        public override void LoadStateDict(OptimizerOptions source)
        {
            base.LoadStateDict(source);
            var options = (Options)source;
            (Beta1, Beta2, Eps, WeightDecay) = (options.Beta1, options.Beta2, options.Eps, options.WeightDecay);
        }
    }

    public sealed class ParamGroup : ParamGroup<Options>, TorchSharp.torch.optim.IBetas
    {
        public ParamGroup()
        {
        }

        public ParamGroup(IEnumerable<Parameter> parameters, double? lr = null, double? beta1 = null, double? beta2 = null,
            double? eps = null, double? weightDecay = null)
            : base(parameters, new Options { LearningRate = lr, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay })
        {
        }

        public (double, double) Betas
        {
            get => (Options.Beta1!.Value, Options.Beta2!.Value);
            set => (Options.Beta1, Options.Beta2) = (value.Item1, value.Item2);
        }
    }

    /// <summary>Per-parameter state: the step t and the first and second moment estimates m and v.</summary>
    public sealed class State(Parameter parameter) : OptimizerState(parameter), IDisposable
    {
        public long Step { get; set; }
        public Tensor M { get; private set; } = null!;
        public Tensor V { get; private set; } = null!;

        public override void Initialize(OptimizerOptions options)
        {
            Step = 0;
            M = zeros_like(_parameter).DetachFromDisposeScope();
            V = zeros_like(_parameter).DetachFromDisposeScope();
        }

        public override void to(Device device)
        {
            M = Replace(M, M.to(device));
            V = Replace(V, V.to(device));
        }

        public override void SaveStateDict(BinaryWriter writer)
        {
            ArgumentNullException.ThrowIfNull(writer);
            writer.Write(Step);
            M.Save(writer);
            V.Save(writer);
        }

        public override void LoadStateDict(BinaryReader reader)
        {
            ArgumentNullException.ThrowIfNull(reader);
            Step = reader.ReadInt64();
            TensorExtensionMethods.Load(M, reader);
            TensorExtensionMethods.Load(V, reader);
        }

        public override void LoadStateDict(OptimizerState source)
        {
            // Copy rather than alias, so the two optimizers never share (and later double-dispose) moments.
            var state = (State)source;
            Step = state.Step;
            using var noGrad = no_grad();
            M.copy_(state.M);
            V.copy_(state.V);
        }

        public override bool ApproximatelyEquals(OptimizerState other) =>
            other is State state && state.Step == Step && state.M.allclose(M) && state.V.allclose(V);

        public void Dispose()
        {
            M.Dispose();
            V.Dispose();
        }

        static Tensor Replace(Tensor old, Tensor moved)
        {
            if (!ReferenceEquals(old, moved))
            {
                old.Dispose();
            }
            return moved.DetachFromDisposeScope();
        }
    }
}
