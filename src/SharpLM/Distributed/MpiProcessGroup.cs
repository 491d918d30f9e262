using SharpLM.Training;

namespace SharpLM.Distributed;

/// <summary>
/// MPI_COMM_WORLD of a job started by an MPI launcher. <see cref="Start"/> initialises MPI; disposing finalises it,
/// after which no process of the job may communicate again.
/// </summary>
public sealed unsafe class MpiProcessGroup : IProcessGroup, IDisposable
{
    readonly MpiLibrary mpi;
    bool finalized;

    MpiProcessGroup(MpiLibrary mpi, int localSize)
    {
        this.mpi = mpi;
        Rank = mpi.Rank();
        Size = mpi.Size();
        LocalSize = localSize;
        GradientReduction = new MpiGradientReduction(this);
    }

    public int Rank { get; }
    public int Size { get; }
    public int LocalSize { get; }
    public MpiGradientReduction GradientReduction { get; }

    /// <summary>Which library is in use, e.g. "Open MPI (libmpi.so.40)".</summary>
    public string Library => $"{(mpi.Flavor == MpiFlavor.OpenMpi ? "Open MPI" : "MPICH")} ({mpi.Name})";

    /// <summary>Loads the launcher's MPI library and joins the job <paramref name="world"/> describes.</summary>
    public static MpiProcessGroup Start(LaunchedWorld world)
    {
        ArgumentNullException.ThrowIfNull(world);
        var mpi = MpiLibrary.Load(world.Flavor);
        mpi.Init();
        var group = new MpiProcessGroup(mpi, world.LocalSize);
        if (group.Rank != world.Rank || group.Size != world.Size)
        {
            throw new InvalidOperationException(
                $"the launcher announced rank {world.Rank} of {world.Size} but {group.Library} says {group.Rank} of {group.Size}: " +
                "the program was launched by one MPI implementation and loaded the other (set SHARPLM_MPI_LIBRARY).");
        }
        return group;
    }

    IGradientReduction? IProcessGroup.GradientReduction => GradientReduction;

    /// <summary>Sums <paramref name="count"/> floats at <paramref name="buffer"/> across the group, in place.</summary>
    public void SumInPlace(float* buffer, int count) => mpi.AllreduceSumInPlace(buffer, count, mpi.Float);

    public void SumInPlace(Span<double> values)
    {
        fixed (double* pointer = values)
        {
            mpi.AllreduceSumInPlace(pointer, values.Length, mpi.Double);
        }
    }

    public byte[][] AllGather(ReadOnlySpan<byte> mine)
    {
        var all = new byte[mine.Length * Size];
        fixed (byte* send = mine)
        fixed (byte* receive = all)
        {
            mpi.AllgatherBytes(send, mine.Length, receive);
        }
        int length = mine.Length;
        return [.. Enumerable.Range(0, Size).Select(rank => all.AsSpan(rank * length, length).ToArray())];
    }

    public void Barrier() => mpi.Barrier();

    /// <summary>Ends every process of the job with <paramref name="exitCode"/>: one failing rank must not leave the others waiting.</summary>
    public void Abort(int exitCode) => mpi.Abort(exitCode);

    public void Dispose()
    {
        if (!finalized)
        {
            finalized = true;
            GradientReduction.Dispose();
            mpi.FinalizeMpi();
        }
    }
}
