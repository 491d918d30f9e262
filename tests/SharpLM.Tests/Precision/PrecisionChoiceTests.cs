using SharpLM.Precision;
using static TorchSharp.torch;

namespace SharpLM.Tests.Precision;

public class PrecisionChoiceTests
{
    const string EpycCpuInfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni\n\nprocessor\t: 1\n";
    const string OlderCpuInfo = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f\n";

    [Fact]
    public void Parse_ReadsTheFlagsOfTheFirstProcessor()
    {
        var features = CpuFeatures.Parse(EpycCpuInfo);

        Assert.True(features.Has("avx512_bf16"));
        Assert.True(features.Has("avx2"));
        Assert.False(features.Has("amx_bf16"));
        Assert.Equal(6, features.Flags.Count);
    }

    [Fact]
    public void Resolve_AutoOnACpuWithAvx512Bf16_ChoosesBf16AndNamesTheFlag()
    {
        var choice = PrecisionChoice.Resolve(PrecisionSetting.Auto, CPU, CpuFeatures.Parse(EpycCpuInfo));

        Assert.Equal(PrecisionSetting.Bf16, choice.Precision);
        Assert.Equal("bf16 (auto: the CPU reports avx512_bf16)", choice.ToString());
    }

    [Fact]
    public void Resolve_AutoOnACpuWithAmxOnly_ChoosesBf16()
    {
        var choice = PrecisionChoice.Resolve(PrecisionSetting.Auto, CPU, CpuFeatures.Parse("flags : avx2 amx_tile amx_bf16\n"));

        Assert.Equal(PrecisionSetting.Bf16, choice.Precision);
        Assert.Contains("amx_bf16", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_AutoOnACpuWithoutBf16Instructions_ChoosesFp32AndSaysWhy()
    {
        var choice = PrecisionChoice.Resolve(PrecisionSetting.Auto, CPU, CpuFeatures.Parse(OlderCpuInfo));

        Assert.Equal(PrecisionSetting.Fp32, choice.Precision);
        Assert.Equal("auto: the CPU reports neither avx512_bf16 nor amx_bf16, so bf16 would be emulated", choice.Reason);
    }

    [Theory]
    [InlineData(PrecisionSetting.Fp32)]
    [InlineData(PrecisionSetting.Bf16)]
    public void Resolve_AnExplicitSetting_IsKeptWhateverTheCpu(PrecisionSetting setting)
    {
        Assert.Equal(setting, PrecisionChoice.Resolve(setting, CPU, CpuFeatures.Parse(OlderCpuInfo)).Precision);
        Assert.Equal(setting, PrecisionChoice.Resolve(setting, CPU, CpuFeatures.Parse(EpycCpuInfo)).Precision);
    }

    [Fact]
    public void Resolve_AutoWithThisMachinesFlags_AgreesWithProcCpuInfo()
    {
        bool fast = File.Exists("/proc/cpuinfo") && File.ReadAllText("/proc/cpuinfo").Split([' ', '\t', '\n']).Any(w => w is "avx512_bf16" or "amx_bf16");

        var choice = PrecisionChoice.Resolve(PrecisionSetting.Auto, CPU);

        Assert.Equal(fast ? PrecisionSetting.Bf16 : PrecisionSetting.Fp32, choice.Precision);
    }
}
