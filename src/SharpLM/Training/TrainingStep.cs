using SharpLM.Numerics;
using SharpLM.Precision;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>What one optimizer step measured.</summary>
/// <param name="GradientNorm">The global ℓ2 norm of the gradients before clipping (§4.5).</param>
/// <param name="Loss">The mean training loss of the step's micro-batches, when it was asked for (a device sync).</param>
/// <param name="Applied">False when the norm was not finite: the parameters were left as they were.</param>
public sealed record StepResult(double GradientNorm, double? Loss, bool Applied);

/// <summary>
/// The body of the training loop (§5.3) as one unit: for each of <see cref="AccumulationSteps"/> micro-batches the
/// forward pass (under <see cref="Autocast"/> in the chosen precision), cross-entropy (eq. 17) and backward with
/// the loss scaled by 1/K, so the gradients sum to those of the mean over the whole batch; then the optional
/// <see cref="IGradientReduction"/>, gradient clipping and the optimizer update. The trainer keeps only the loop.
/// </summary>
public sealed class TrainingStep
{
    readonly nn.Module<Tensor, Tensor> model;
    readonly optim.Optimizer optimizer;
    readonly List<Parameter> parameters;
    readonly double maxGradientNorm;
    readonly IGradientReduction? reduction;

    /// <param name="model">Maps (batch, context) token ids to (batch, context, vocab) logits.</param>
    /// <param name="optimizer">Updates the model's parameters from their gradients.</param>
    /// <param name="precision">fp32 or bf16 (resolve <see cref="PrecisionSetting.Auto"/> first).</param>
    /// <param name="gradientClip">Maximum global gradient norm; null does not clip.</param>
    /// <param name="accumulationSteps">Micro-batches per optimizer step.</param>
    /// <param name="reduction">Applied to the summed gradients before clipping; null for a single process.</param>
    public TrainingStep(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, PrecisionSetting precision, double? gradientClip,
        int accumulationSteps = 1, IGradientReduction? reduction = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        if (precision is not (PrecisionSetting.Fp32 or PrecisionSetting.Bf16))
        {
            throw new ArgumentException($"a training step runs in fp32 or bf16, got {precision}: resolve it first.", nameof(precision));
        }
        if (gradientClip is not (null or > 0))
        {
            throw new ArgumentException($"gradient clip must be > 0 or null, got {gradientClip}.", nameof(gradientClip));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(accumulationSteps, 1);
        this.model = model;
        this.optimizer = optimizer;
        parameters = [.. model.parameters()];
        Precision = precision;
        maxGradientNorm = gradientClip ?? double.PositiveInfinity;
        AccumulationSteps = accumulationSteps;
        this.reduction = reduction;
    }

    public PrecisionSetting Precision { get; }

    public int AccumulationSteps { get; }

    /// <summary>
    /// Takes one optimizer step on the micro-batches <paramref name="nextMicroBatch"/> returns, each (batch, context)
    /// inputs and targets. A non-finite gradient norm skips the update (the caller decides what to do about it).
    /// </summary>
    /// <param name="nextMicroBatch">Called once per micro-batch, inside the step's dispose scope.</param>
    /// <param name="readLoss">Read the loss from the device (only at log intervals: it synchronises).</param>
    public StepResult Take(Func<(Tensor Inputs, Tensor Targets)> nextMicroBatch, bool readLoss)
    {
        ArgumentNullException.ThrowIfNull(nextMicroBatch);
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        Tensor? lossSum = null; // ()
        for (int micro = 0; micro < AccumulationSteps; micro++)
        {
            var (inputs, targets) = nextMicroBatch(); // (batch, context)
            Tensor logits;
            using (Autocast.Enter(Precision))
            {
                logits = model.call(inputs); // (batch, context, vocab)
            }
            var loss = Losses.CrossEntropy(logits, targets); // (): float32 whatever the logits' dtype
            if (AccumulationSteps == 1)
            {
                loss.backward();
            }
            else
            {
                using var steps = AccumulationSteps.ToScalar(); // held: see Scalars
                loss.div(steps).backward();
            }
            lossSum = lossSum is null ? loss.detach() : lossSum.add(loss.detach(), Scalars.One);
        }
        reduction?.Reduce(parameters);
        // The norm is read from the device every step anyway, so it doubles as the NaN/Inf guard.
        double norm = GradientClipping.ClipGradNorm(parameters, maxGradientNorm);
        bool finite = double.IsFinite(norm);
        if (finite)
        {
            optimizer.step();
        }
        double? meanLoss = readLoss ? lossSum!.item<float>() / AccumulationSteps : null;
        return new StepResult(norm, meanLoss, finite);
    }
}
