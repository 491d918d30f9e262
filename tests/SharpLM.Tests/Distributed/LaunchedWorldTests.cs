using SharpLM.Distributed;

namespace SharpLM.Tests.Distributed;

public class LaunchedWorldTests
{
    static LaunchedWorld? Detect(params (string Name, string Value)[] variables)
    {
        var environment = variables.ToDictionary(v => v.Name, v => v.Value);
        return LaunchedWorld.Detect(name => environment.GetValueOrDefault(name));
    }

    [Fact]
    public void Detect_WithoutALauncher_IsAlone() => Assert.Null(Detect(("HOME", "/root")));

    [Fact]
    public void Detect_ReadsOpenMpisVariables() =>
        Assert.Equal(new LaunchedWorld(1, 4, 2, MpiFlavor.OpenMpi),
            Detect(("OMPI_COMM_WORLD_RANK", "1"), ("OMPI_COMM_WORLD_SIZE", "4"), ("OMPI_COMM_WORLD_LOCAL_SIZE", "2")));

    [Fact]
    public void Detect_ReadsHydrasVariablesAsMpich() =>
        Assert.Equal(new LaunchedWorld(0, 2, 2, MpiFlavor.Mpich), Detect(("PMI_RANK", "0"), ("PMI_SIZE", "2"), ("MPI_LOCALNRANKS", "2")));

    [Fact]
    public void Detect_UnderSrun_LeavesTheLibraryOpenAndReadsTheTasksPerNode() =>
        Assert.Equal(new LaunchedWorld(3, 6, 2, null),
            Detect(("SLURM_PROCID", "3"), ("SLURM_STEP_NUM_TASKS", "6"), ("SLURM_STEP_TASKS_PER_NODE", "2(x3)")));

    [Fact]
    public void Detect_UnderSrunWithPmi2_IsMpichWithTheTasksPerNode() =>
        Assert.Equal(new LaunchedWorld(1, 4, 2, MpiFlavor.Mpich),
            Detect(("PMI_RANK", "1"), ("PMI_SIZE", "4"), ("SLURM_PROCID", "1"), ("SLURM_STEP_NUM_TASKS", "4"), ("SLURM_STEP_TASKS_PER_NODE", "2(x2)")));

    [Fact]
    public void Detect_WhenNoLauncherSaysTheRanksPerHost_CountsOne() =>
        Assert.Equal(new LaunchedWorld(0, 2, 1, MpiFlavor.Mpich), Detect(("PMI_RANK", "0"), ("PMI_SIZE", "2")));

    [Fact]
    public void Detect_InASlurmBatchScriptWithoutSrun_IsAlone() => Assert.Null(Detect(("SLURM_PROCID", "0"), ("SLURM_NTASKS", "4")));

    [Fact]
    public void Detect_AWorldOfOne_IsAlone() => Assert.Null(Detect(("OMPI_COMM_WORLD_RANK", "0"), ("OMPI_COMM_WORLD_SIZE", "1")));

    [Fact]
    public void Detect_ARankOutsideTheWorld_SaysWhatTheLauncherSet()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Detect(("PMI_RANK", "2"), ("PMI_SIZE", "2")));
        Assert.Contains("PMI_RANK=2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SamplerSeeds_KeepTheSingleProcessStreamOnRankZeroAndDifferElsewhere()
    {
        Assert.Equal(43UL, SamplerSeeds.For(42, 0));
        ulong[] seeds = [.. Enumerable.Range(0, 64).Select(rank => SamplerSeeds.For(42, rank))];
        Assert.Equal(seeds.Length, seeds.Distinct().Count());
        Assert.NotEqual(SamplerSeeds.For(42, 1), SamplerSeeds.For(43, 1));
    }
}
