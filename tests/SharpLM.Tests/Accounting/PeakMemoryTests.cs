using SharpLM.Accounting;

namespace SharpLM.Tests.Accounting;

public class PeakMemoryTests
{
    [Fact]
    public void Of_Gpt2XlInFloat32_GivesTheFormulaAndBatch2In80GB()
    {
        var memory = PeakMemory.Of(ModelPresets.Get("gpt2-xl"));

        // b = 4 tensors shaped as θ (θ, g, m, v) · 2,127,057,600 · 4 bytes
        Assert.Equal(4L * 2_127_057_600 * 4, memory.FixedBytes);
        // a = 4 bytes · (48·(8·1024·1600 + 4·1024·6400 + 2·25·1024²) + 1024·1600 + 2·1024·50257)
        Assert.Equal(4L * (48L * (8 * 1024 * 1600 + 4 * 1024 * 6400 + 2L * 25 * 1024 * 1024) + 1024 * 1600 + 2L * 1024 * 50_257), memory.BytesPerSequence);
        Assert.Equal(18_034_335_744, memory.BytesPerSequence);
        Assert.Equal(34_032_921_600, memory.FixedBytes);
        Assert.Equal(2, memory.LargestBatch(80_000_000_000));
        Assert.True(memory.TotalBytes(2) <= 80_000_000_000);
        Assert.True(memory.TotalBytes(3) > 80_000_000_000);
    }

    [Fact]
    public void Of_WithTwoBytesPerElement_HalvesEveryTerm()
    {
        var single = PeakMemory.Of(ModelPresets.Get("tinystories"));
        var half = PeakMemory.Of(ModelPresets.Get("tinystories"), bytesPerElement: 2);

        Assert.Equal(single.FixedBytes, 2 * half.FixedBytes);
        Assert.Equal(single.BytesPerSequence, 2 * half.BytesPerSequence);
        Assert.Equal(2 * single.ParameterBytes, single.OptimizerStateBytes);
        Assert.Equal(single.ParameterBytes, single.GradientBytes);
    }

    [Fact]
    public void LargestBatch_WhenTheFixedPartAloneDoesNotFit_IsZero()
    {
        var memory = PeakMemory.Of(ModelPresets.Get("gpt2-xl"));

        Assert.Equal(0, memory.LargestBatch(memory.FixedBytes));
        Assert.Equal(0, memory.LargestBatch(memory.FixedBytes + memory.BytesPerSequence - 1));
        Assert.Equal(1, memory.LargestBatch(memory.FixedBytes + memory.BytesPerSequence));
    }
}
