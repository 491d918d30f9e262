using System.Diagnostics;
using SharpLM.Distributed;
using SharpLM.Tests.Packaging;

namespace SharpLM.Tests.Distributed;

/// <summary>
/// The MPI launchers of Debian's packages, which install side by side: Open MPI's mpirun.openmpi and MPICH's
/// mpiexec.mpich. CI installs both (.ci/run); a machine without one skips its tests with the reason.
/// </summary>
public static class MpiLauncher
{
    public static string? Path(MpiFlavor flavor) => Find(flavor == MpiFlavor.OpenMpi ? "mpirun.openmpi" : "mpiexec.mpich");

    public static string Package(MpiFlavor flavor) => flavor == MpiFlavor.OpenMpi ? "openmpi-bin libopenmpi-dev" : "mpich libmpich-dev";

    /// <summary>Runs <paramref name="program"/> as <paramref name="ranks"/> ranks on this host.</summary>
    public static ProcessResult Run(MpiFlavor flavor, int ranks, string workingDirectory, string program, params string[] arguments) =>
        DotnetCommand.Run(Path(flavor)!, workingDirectory, Variables(), [.. LauncherArguments(flavor, ranks), program, .. arguments]);

    /// <summary>Runs one rank of each command line (MPMD: the launcher's "a : b" syntax).</summary>
    public static ProcessResult RunEach(MpiFlavor flavor, string workingDirectory, params string[][] commandLines) =>
        DotnetCommand.Run(Path(flavor)!, workingDirectory, Variables(),
            [.. commandLines.SelectMany((line, index) => (index == 0 ? LauncherArguments(flavor, 1) : [":", "-np", "1"]).Concat(line))]);

    /// <summary>Starts the job without waiting for it, its output discarded.</summary>
    public static Process Start(MpiFlavor flavor, int ranks, string workingDirectory, string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(Path(flavor)!)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in LauncherArguments(flavor, ranks).Append(program).Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in Variables())
        {
            start.Environment[name] = value;
        }
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Open MPI refuses to start as root (CI is root) without both variables.</summary>
    public static Dictionary<string, string> Variables() => new()
    {
        ["OMPI_ALLOW_RUN_AS_ROOT"] = "1",
        ["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1",
    };

    static string[] LauncherArguments(MpiFlavor flavor, int ranks) =>
        flavor == MpiFlavor.OpenMpi ? ["--oversubscribe", "-np", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture)] : ["-np", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture)];

    static string? Find(string name) =>
        (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => System.IO.Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
}

/// <summary>A fact that needs an MPI launcher; skipped with the package to install where there is none.</summary>
public sealed class MpiFactAttribute : FactAttribute
{
    public MpiFactAttribute(MpiFlavor flavor)
    {
        if (MpiLauncher.Path(flavor) is null)
        {
            Skip = $"needs {flavor} (apt-get install {MpiLauncher.Package(flavor)}; CI installs it)";
        }
    }

    /// <summary>Also needs ../shared/data.</summary>
    public bool NeedsSharedData
    {
        get => field;
        set
        {
            field = value;
            if (value && SharedData.Directory is null)
            {
                Skip ??= "needs ../shared/data beside the repository (CI provides it)";
            }
        }
    }
}
