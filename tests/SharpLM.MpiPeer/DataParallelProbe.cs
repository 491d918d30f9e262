using SharpLM.Distributed;
using SharpLM.Model;
using SharpLM.Numerics;
using SharpLM.Precision;
using SharpLM.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.MpiPeer;

/// <summary>
/// Trains a tiny model on fixed global batches, handing each rank its share: the seam that lets a data-parallel job
/// be compared with one process taking the whole batch, or the same batch in accumulation steps.
/// </summary>
public static class DataParallelProbe
{
    static readonly TransformerConfig Tiny = new(64, 16, 32, 2, 2, 64, 10_000);

    /// <summary>Rows of the global batch of every step.</summary>
    public const int GlobalBatch = 8;

    /// <summary>
    /// <paramref name="steps"/> AdamW steps in fp32 on step s's global batch of <see cref="GlobalBatch"/> rows, of which
    /// this rank takes rows [rank·B, (rank + 1)·B) with B = GlobalBatch / Size, in <paramref name="accumulationSteps"/>
    /// micro-batches. Returns every weight, flattened in parameter order.
    /// </summary>
    public static float[] Train(IProcessGroup group, int steps, int accumulationSteps)
    {
        ArgumentNullException.ThrowIfNull(group);
        int rows = GlobalBatch / group.Size;
        int micro = rows / accumulationSteps;
        using var generator = new Generator(1);
        using var model = new TransformerLM(Tiny, generator: generator);
        using var optimizer = new AdamW(model.parameters(), 3e-3, weightDecay: 0.01);
        var step = new TrainingStep(model, optimizer, PrecisionSetting.Fp32, gradientClip: 1.0, accumulationSteps, group.GradientReduction);
        for (int s = 0; s < steps; s++)
        {
            using var batchGenerator = new Generator((ulong)(1000 + s));
            using var global = randint(Tiny.VocabSize, [GlobalBatch, Tiny.ContextLength + 1], generator: batchGenerator, dtype: ScalarType.Int64); // (global batch, context + 1)
            int next = 0;
            step.Take(() =>
            {
                var rowsOfMicroBatch = global.narrow(0, group.Rank * rows + micro * next++, micro); // (micro, context + 1)
                return (rowsOfMicroBatch.narrow(1, 0, Tiny.ContextLength), rowsOfMicroBatch.narrow(1, 1, Tiny.ContextLength));
            }, readLoss: false);
        }
        using var flat = cat([.. model.parameters().Select(p => p.detach().reshape(-1))]);
        return flat.data<float>().ToArray();
    }

    /// <summary>The value rank r puts at index i of the gradient <see cref="Reduce"/> averages: exact in float32.</summary>
    public static float GradientValue(int rank, long index) => (rank + 1) * (index % 1000);

    /// <summary>
    /// Averages gradients of <paramref name="counts"/> floats holding <see cref="GradientValue"/> (of their index in
    /// all of them, in order) across the group, at most <paramref name="maxChunk"/> floats per MPI call, twice: the
    /// second time after the values were written again in place, as the next step's backward does into gradients
    /// the first reduction bound to its buffer. Returns the gradients after the second, flattened.
    /// </summary>
    public static float[] Reduce(MpiProcessGroup group, int[] counts, int maxChunk)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(counts);
        using var reduction = new MpiGradientReduction(group, maxChunk);
        var parameters = counts.Select(count => new TorchSharp.Modules.Parameter(zeros(count))).ToList();
        // Held scalars: see SharpLM.Numerics.Scalars.
        using var thousand = 1000.ToScalar();
        using var factor = (group.Rank + 1).ToScalar();
        using var values = Scalars.Range(0, counts.Sum(), ScalarType.Int64).remainder(thousand).to_type(ScalarType.Float32).mul_(factor);
        var slices = values.split(counts.Select(c => (long)c).ToArray());
        for (int i = 0; i < parameters.Count; i++)
        {
            parameters[i].grad = slices[i].clone();
        }
        reduction.Reduce(parameters);
        for (int i = 0; i < parameters.Count; i++)
        {
            using var gradient = parameters[i].grad!;
            gradient.copy_(slices[i]);
        }
        reduction.Reduce(parameters);
        using var flat = cat([.. parameters.Select(p => p.grad!.reshape(-1))]);
        return flat.data<float>().ToArray();
    }
}
