namespace SharpLM.Distributed;

/// <summary>Which MPI implementation launched the process, which decides the library and its handle representation.</summary>
public enum MpiFlavor
{
    /// <summary>Open MPI (libmpi.so.40): handles are addresses of exported globals, MPI_IN_PLACE is 1.</summary>
    OpenMpi,

    /// <summary>MPICH (libmpich.so.12): handles are 32-bit integers, MPI_IN_PLACE is −1.</summary>
    Mpich,
}

/// <summary>
/// This process's place in a job started by <c>mpirun</c>, <c>mpiexec</c> or <c>srun</c>, read from the environment
/// the launcher sets, so that a plain run can tell it is alone without loading any MPI library.
/// </summary>
/// <param name="Rank">0 … Size − 1.</param>
/// <param name="Size">Number of processes in the job.</param>
/// <param name="LocalSize">Processes of the job on this host (they share its cores).</param>
/// <param name="Flavor">The implementation to load; null when the launcher does not tell (Slurm): both are tried.</param>
public sealed record LaunchedWorld(int Rank, int Size, int LocalSize, MpiFlavor? Flavor)
{
    /// <summary>The job this process belongs to, or null when it runs alone (no launcher, or a world of one).</summary>
    public static LaunchedWorld? FromEnvironment() => Detect(Environment.GetEnvironmentVariable);

    /// <summary>
    /// Open MPI sets OMPI_COMM_WORLD_*, MPICH's Hydra PMI_RANK/PMI_SIZE (and MPI_LOCALNRANKS), Slurm's srun
    /// SLURM_PROCID/SLURM_STEP_NUM_TASKS, and also PMI_RANK/PMI_SIZE with --mpi=pmi2, the PMI wire protocol MPICH
    /// speaks. SLURM_NTASKS alone is not enough: a batch script that runs a plain command sees it too.
    /// </summary>
    public static LaunchedWorld? Detect(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var world = Read(environment, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_SIZE", MpiFlavor.OpenMpi)
            ?? Read(environment, "PMI_RANK", "PMI_SIZE", "MPI_LOCALNRANKS", MpiFlavor.Mpich)
            ?? Read(environment, "SLURM_PROCID", "SLURM_STEP_NUM_TASKS", null, null);
        if (world is { LocalSize: 0 })
        {
            // srun tells the tasks per node ("2(x3),1"), not this node's share; the first group is the common case.
            string first = environment("SLURM_STEP_TASKS_PER_NODE")?.Split(',')[0].Split('(')[0] ?? "";
            world = world with { LocalSize = int.TryParse(first, out int local) && local > 0 ? local : 1 };
        }
        return world is { Size: > 1 } ? world : null;
    }

    static LaunchedWorld? Read(Func<string, string?> environment, string rankName, string sizeName, string? localSizeName, MpiFlavor? flavor)
    {
        if (environment(rankName) is not { } rankText || environment(sizeName) is not { } sizeText)
        {
            return null;
        }
        if (!int.TryParse(rankText, out int rank) || !int.TryParse(sizeText, out int size) || size < 1 || rank < 0 || rank >= size)
        {
            throw new InvalidOperationException($"the launcher set {rankName}={rankText} and {sizeName}={sizeText}, which are not a rank and a world size.");
        }
        // 0: the launcher did not say.
        int localSize = localSizeName is not null && int.TryParse(environment(localSizeName), out int local) && local > 0 ? local : 0;
        return new LaunchedWorld(rank, size, localSize, flavor);
    }
}
