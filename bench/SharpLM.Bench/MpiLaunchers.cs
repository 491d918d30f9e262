using System.Globalization;
using SharpLM.Distributed;

namespace SharpLM.Bench;

/// <summary>
/// The MPI launchers of Debian's packages, which install side by side: Open MPI's mpirun.openmpi and MPICH's
/// mpiexec.mpich. Each rank is bound to a core of its own, so that two ranks of one thread do not share one.
/// </summary>
public static class MpiLaunchers
{
    /// <summary>The launchers installed here.</summary>
    public static IReadOnlyList<MpiFlavor> Available() =>
        [.. Enum.GetValues<MpiFlavor>().Where(flavor => Find(Program(flavor)) is not null)];

    public static string Name(MpiFlavor flavor) => flavor == MpiFlavor.OpenMpi ? "Open MPI" : "MPICH";

    public static string Package(MpiFlavor flavor) => flavor == MpiFlavor.OpenMpi ? "openmpi-bin libopenmpi-dev" : "mpich libmpich-dev";

    /// <summary>The command line prefix that starts <paramref name="ranks"/> ranks on this host.</summary>
    public static string[] Command(MpiFlavor flavor, int ranks)
    {
        string count = ranks.ToString(CultureInfo.InvariantCulture);
        return flavor == MpiFlavor.OpenMpi
            ? [Find(Program(flavor))!, "-np", count, "--bind-to", "core"]
            : [Find(Program(flavor))!, "-np", count, "-bind-to", "core"];
    }

    /// <summary>Open MPI refuses to start as root without both variables.</summary>
    public static Dictionary<string, string> Variables() => new()
    {
        ["OMPI_ALLOW_RUN_AS_ROOT"] = "1",
        ["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1",
    };

    static string Program(MpiFlavor flavor) => flavor == MpiFlavor.OpenMpi ? "mpirun.openmpi" : "mpiexec.mpich";

    static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
}
