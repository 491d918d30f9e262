using SharpLM.Distributed;
using SharpLM.MpiPeer;

namespace SharpLM.Tests.Distributed;

/// <summary>
/// Data parallelism must not change the arithmetic: 2 ranks × batch B equal 1 process × batch 2B and 1 process ×
/// batch B in 2 accumulation steps, on the same global batches, and the ranks' weights agree to the bit.
/// </summary>
[Collection(MpiCollection.Name)]
public sealed class DataParallelEquivalenceTests : IDisposable
{
    const int Steps = 20;
    readonly string directory = Directory.CreateTempSubdirectory("sharplm-mpi-equivalence-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [MpiFact(MpiFlavor.OpenMpi)]
    public void TwoRanks_OnOpenMpi_EqualOneProcessOnTheWholeBatchAndWithAccumulation() => AssertEquivalent(MpiFlavor.OpenMpi);

    [MpiFact(MpiFlavor.Mpich)]
    public void TwoRanks_OnMpich_EqualOneProcessOnTheWholeBatchAndWithAccumulation() => AssertEquivalent(MpiFlavor.Mpich);

    void AssertEquivalent(MpiFlavor flavor)
    {
        string prefix = Path.Combine(directory, "weights");
        string peer = Path.Combine(AppContext.BaseDirectory, "SharpLM.MpiPeer");
        MpiLauncher.Run(flavor, 2, directory, peer, "train", prefix, Steps.ToString(System.Globalization.CultureInfo.InvariantCulture), "1")
            .AssertSuccess($"{flavor} -np 2 SharpLM.MpiPeer");
        byte[] rank0 = File.ReadAllBytes(prefix + ".rank0");
        byte[] rank1 = File.ReadAllBytes(prefix + ".rank1");
        Assert.True(rank0.AsSpan().SequenceEqual(rank1), "the two ranks' weights differ");

        float[] parallel = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(rank0).ToArray();
        float[] whole = DataParallelProbe.Train(SingleProcess.Instance, Steps, accumulationSteps: 1);
        float[] accumulated = DataParallelProbe.Train(SingleProcess.Instance, Steps, accumulationSteps: 2);
        float[] untrained = DataParallelProbe.Train(SingleProcess.Instance, 0, accumulationSteps: 1);
        Assert.Equal(whole.Length, parallel.Length);
        // The runs must have moved the weights well beyond the tolerance, or agreeing within it would prove nothing.
        Assert.True(MaxDifference(untrained, whole) > 1e-2, $"20 steps moved the weights by only {MaxDifference(untrained, whole)}");
        Assert.True(MaxDifference(parallel, whole) <= 1e-5, $"2 ranks × B differ from 1 × 2B by {MaxDifference(parallel, whole)}");
        Assert.True(MaxDifference(parallel, accumulated) <= 1e-5, $"2 ranks × B differ from 1 × B with K = 2 by {MaxDifference(parallel, accumulated)}");
    }

    [MpiFact(MpiFlavor.OpenMpi)]
    public void Reduction_OnOpenMpi_OfGradientsSpanningThreeChunks_AveragesEveryElementStepAfterStep() => AssertAveraged(MpiFlavor.OpenMpi);

    [MpiFact(MpiFlavor.Mpich)]
    public void Reduction_OnMpich_OfGradientsSpanningThreeChunks_AveragesEveryElementStepAfterStep() => AssertAveraged(MpiFlavor.Mpich);

    void AssertAveraged(MpiFlavor flavor)
    {
        // Three gradients in one buffer of 2003 floats, reduced in three calls of at most 1000, the last of 3 floats.
        int count = 2003;
        string prefix = Path.Combine(directory, "gradient");
        MpiLauncher.Run(flavor, 2, directory, Path.Combine(AppContext.BaseDirectory, "SharpLM.MpiPeer"), "reduce", prefix, "700,1300,3", "1000")
            .AssertSuccess($"{flavor} -np 2 SharpLM.MpiPeer reduce");
        var reduced = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(prefix + ".rank1"));
        Assert.Equal(count, reduced.Length);
        for (int i = 0; i < count; i++)
        {
            float expected = (DataParallelProbe.GradientValue(0, i) + DataParallelProbe.GradientValue(1, i)) / 2;
            if (reduced[i] != expected)
            {
                Assert.Fail($"element {i} is {reduced[i]}, the average is {expected}");
            }
        }
    }

    static double MaxDifference(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();
}
