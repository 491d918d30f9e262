using System.Runtime.InteropServices;

namespace SharpLM.Distributed;

/// <summary>
/// The few MPI C functions data-parallel training needs, bound at run time to Open MPI's or MPICH's shared library
/// (MPI.NET imports only Windows' msmpi.dll and serialises through BinaryFormatter, which .NET 10 lacks). Handles are
/// carried as <see cref="nint"/>: MPICH's are 32-bit integers, which the x86-64 calling convention passes in the
/// same registers, and Open MPI's are the addresses of its predefined objects, looked up by their symbol names.
/// </summary>
internal sealed unsafe class MpiLibrary
{
    const int ThreadSerialized = 2; // MPI_THREAD_SERIALIZED in both mpi.h
    const int RtldNow = 2;
    const int RtldGlobal = 0x100;

    readonly delegate* unmanaged<int*, nint, int, int*, int> initThread;
    readonly delegate* unmanaged<int> finalize;
    readonly delegate* unmanaged<nint, int*, int> commRank;
    readonly delegate* unmanaged<nint, int*, int> commSize;
    readonly delegate* unmanaged<nint, nint, int, nint, nint, nint, int> allreduce;
    readonly delegate* unmanaged<nint, int, nint, nint, int, nint, nint, int> allgather;
    readonly delegate* unmanaged<nint, int> barrier;
    readonly delegate* unmanaged<nint, int, int> abort;

    MpiLibrary(MpiFlavor flavor, string name, nint library)
    {
        Flavor = flavor;
        Name = name;
        nint Export(string symbol) => NativeLibrary.GetExport(library, symbol);
        initThread = (delegate* unmanaged<int*, nint, int, int*, int>)Export("MPI_Init_thread");
        finalize = (delegate* unmanaged<int>)Export("MPI_Finalize");
        commRank = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_rank");
        commSize = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_size");
        allreduce = (delegate* unmanaged<nint, nint, int, nint, nint, nint, int>)Export("MPI_Allreduce");
        allgather = (delegate* unmanaged<nint, int, nint, nint, int, nint, nint, int>)Export("MPI_Allgather");
        barrier = (delegate* unmanaged<nint, int>)Export("MPI_Barrier");
        abort = (delegate* unmanaged<nint, int, int>)Export("MPI_Abort");
        if (flavor == MpiFlavor.OpenMpi)
        {
            CommWorld = Export("ompi_mpi_comm_world");
            Float = Export("ompi_mpi_float");
            Double = Export("ompi_mpi_double");
            Byte = Export("ompi_mpi_byte");
            Sum = Export("ompi_mpi_op_sum");
            InPlace = 1;
        }
        else
        {
            CommWorld = 0x44000000;
            Float = 0x4c00040a;
            Double = 0x4c00080b;
            Byte = 0x4c00010d;
            Sum = 0x58000003;
            InPlace = -1;
        }
    }

    public MpiFlavor Flavor { get; }
    public string Name { get; }
    public nint CommWorld { get; }
    public nint Float { get; }
    public nint Double { get; }
    public nint Byte { get; }
    public nint Sum { get; }
    public nint InPlace { get; }

    /// <summary>
    /// Loads the implementation that launched the process: SHARPLM_MPI_LIBRARY names a library explicitly, else
    /// the flavour's soname, else (Slurm) whichever of the two is installed. RTLD_GLOBAL, because Open MPI's plugins
    /// resolve their symbols against libmpi.
    /// </summary>
    public static MpiLibrary Load(MpiFlavor? flavor)
    {
        string? explicitPath = Environment.GetEnvironmentVariable("SHARPLM_MPI_LIBRARY");
        (MpiFlavor Flavor, string Name)[] candidates = explicitPath is { Length: > 0 }
            ? [(flavor ?? (explicitPath.Contains("mpich", StringComparison.OrdinalIgnoreCase) ? MpiFlavor.Mpich : MpiFlavor.OpenMpi), explicitPath)]
            : [.. new[] { (MpiFlavor.OpenMpi, "libmpi.so.40"), (MpiFlavor.Mpich, "libmpich.so.12") }.Where(c => flavor is null || c.Item1 == flavor)];
        foreach (var (candidateFlavor, name) in candidates)
        {
            nint library = dlopen(name, RtldNow | RtldGlobal);
            if (library != 0)
            {
                return new MpiLibrary(candidateFlavor, name, library);
            }
        }
        throw new DllNotFoundException(
            $"this process was started by an MPI launcher but {string.Join(" or ", candidates.Select(c => c.Name))} cannot be loaded: " +
            "install Open MPI (apt-get install openmpi-bin) or MPICH (apt-get install mpich), or set SHARPLM_MPI_LIBRARY to the library's path.");
    }

    [DllImport("libc", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    static extern nint dlopen(string file, int mode);

    public void Init()
    {
        int provided;
        Check(initThread(null, 0, ThreadSerialized, &provided), "MPI_Init_thread");
    }

    public void FinalizeMpi() => Check(finalize(), "MPI_Finalize");

    public int Rank()
    {
        int rank;
        Check(commRank(CommWorld, &rank), "MPI_Comm_rank");
        return rank;
    }

    public int Size()
    {
        int size;
        Check(commSize(CommWorld, &size), "MPI_Comm_size");
        return size;
    }

    /// <summary>MPI_Allreduce(MPI_IN_PLACE, buffer, count, type, MPI_SUM, MPI_COMM_WORLD).</summary>
    public void AllreduceSumInPlace(void* buffer, int count, nint type) =>
        Check(allreduce(InPlace, (nint)buffer, count, type, Sum, CommWorld), "MPI_Allreduce");

    public void AllgatherBytes(void* send, int count, void* receive) =>
        Check(allgather((nint)send, count, Byte, (nint)receive, count, Byte, CommWorld), "MPI_Allgather");

    public void Barrier() => Check(barrier(CommWorld), "MPI_Barrier");

    public void Abort(int code) => abort(CommWorld, code);

    // MPI's default error handler aborts the job before returning, so a code other than MPI_SUCCESS means the
    // handler was changed; it is still reported rather than ignored.
    static void Check(int code, string function)
    {
        if (code != 0)
        {
            throw new InvalidOperationException($"{function} failed with MPI error code {code}.");
        }
    }
}
