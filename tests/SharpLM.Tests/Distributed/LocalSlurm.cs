using System.Diagnostics;
using System.Globalization;
using SharpLM.Distributed;
using SharpLM.Tests.Packaging;

namespace SharpLM.Tests.Distributed;

/// <summary>
/// A one-node Slurm cluster of this machine, private to a test: its own MUNGE daemon and key, its own slurmctld and
/// slurmd on ports of their own, all state in one temporary directory, so that srun starts real job steps and
/// nothing of the machine's Slurm (if any) is touched. Debian's packages: slurmctld slurmd slurm-client munge.
/// </summary>
public sealed class LocalSlurm : IDisposable
{
    const string Packages = "slurmctld slurmd slurm-client munge";
    static readonly string[] Programs = ["/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/srun", "/usr/bin/sinfo"];
    readonly string directory;

    LocalSlurm(string directory)
    {
        this.directory = directory;
        Variables = new Dictionary<string, string> { ["SLURM_CONF"] = Path.Combine(directory, "slurm.conf") };
    }

    /// <summary>Why this machine cannot run one, or null when it can (the daemons run as root).</summary>
    public static string? Unavailable() =>
        Environment.UserName != "root" || Programs.Any(p => !File.Exists(p))
            ? $"needs root and Slurm (apt-get install {Packages}; CI installs them)"
            : null;

    /// <summary>SLURM_CONF, which srun needs to find this cluster.</summary>
    public IReadOnlyDictionary<string, string> Variables { get; }

    /// <summary>Starts the daemons and waits until the node takes jobs.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public static LocalSlurm Start()
    {
        var slurm = new LocalSlurm(Directory.CreateTempSubdirectory("sharplm-slurm-").FullName);
        try
        {
            slurm.Launch();
            return slurm;
        }
        catch
        {
            slurm.Dispose();
            throw;
        }
    }

    /// <summary>Runs `srun <paramref name="arguments"/>` against this cluster.</summary>
    public ProcessResult Srun(string workingDirectory, params string[] arguments) => DotnetCommand.Run("/usr/bin/srun", workingDirectory, Variables, arguments);

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    void Launch()
    {
        string key = Path.Combine(directory, "munge.key");
        File.WriteAllBytes(key, System.Security.Cryptography.RandomNumberGenerator.GetBytes(1024));
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        string socket = Path.Combine(directory, "munge.socket");
        Run("/usr/sbin/munged", "--force", $"--socket={socket}", $"--key-file={key}", $"--log-file={Path.Combine(directory, "munged.log")}",
            $"--pid-file={Path.Combine(directory, "munged.pid")}", $"--seed-file={Path.Combine(directory, "munged.seed")}");

        Directory.CreateDirectory(Path.Combine(directory, "state"));
        Directory.CreateDirectory(Path.Combine(directory, "spool"));
        string node = Run("/usr/bin/hostname", "-s").Trim();
        // Ports away from Slurm's defaults (6817/6818), so that a Slurm already running here is not in the way.
        int port = 20000 + Environment.ProcessId % 20000;
        File.WriteAllText(Variables["SLURM_CONF"], $"""
            ClusterName=sharplm-test
            SlurmctldHost={node}(127.0.0.1)
            SlurmctldPort={port}
            SlurmdPort={port + 1}
            SlurmUser=root
            SlurmdUser=root
            AuthType=auth/munge
            CredType=cred/munge
            AuthInfo=socket={socket}
            StateSaveLocation={Path.Combine(directory, "state")}
            SlurmdSpoolDir={Path.Combine(directory, "spool")}
            SlurmctldPidFile={Path.Combine(directory, "slurmctld.pid")}
            SlurmdPidFile={Path.Combine(directory, "slurmd.pid")}
            SlurmctldLogFile={Path.Combine(directory, "slurmctld.log")}
            SlurmdLogFile={Path.Combine(directory, "slurmd.log")}
            ProctrackType=proctrack/linuxproc
            TaskPlugin=task/none
            SelectType=select/cons_tres
            SelectTypeParameters=CR_CPU
            MpiDefault=none
            ReturnToService=2
            NodeName={node} NodeAddr=127.0.0.1 CPUs={Environment.ProcessorCount} State=UNKNOWN
            PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES

            """);
        Run("/usr/sbin/slurmctld", "-f", Variables["SLURM_CONF"]);
        Run("/usr/sbin/slurmd", "-f", Variables["SLURM_CONF"]);
        var clock = Stopwatch.StartNew();
        while (Run("/usr/bin/sinfo", "--noheader", "--format=%T").Trim() != "idle")
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"the local Slurm node did not become idle: {File.ReadAllText(Path.Combine(directory, "slurmctld.log"))}");
            }
            Thread.Sleep(250);
        }
    }

    string Run(string program, params string[] arguments)
    {
        var result = DotnetCommand.Run(program, directory, Variables, arguments);
        return result.ExitCode == 0 ? result.Output : throw new InvalidOperationException($"{program} failed ({result.ExitCode}): {result.Output}");
    }

    /// <summary>Stops the daemons (each wrote its pid) and removes everything.</summary>
    public void Dispose()
    {
        foreach (string daemon in new[] { "slurmd", "slurmctld", "munged" })
        {
            string pidFile = Path.Combine(directory, daemon + ".pid");
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int pid))
            {
                try
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill();
                    process.WaitForExit(TimeSpan.FromSeconds(10));
                }
                catch (ArgumentException)
                {
                    // Already gone.
                }
            }
        }
        Directory.Delete(directory, recursive: true);
    }
}

/// <summary>Needs an MPI library and a local Slurm cluster (<see cref="LocalSlurm"/>); CI has both.</summary>
public sealed class SlurmFactAttribute : FactAttribute
{
    public SlurmFactAttribute(MpiFlavor flavor)
    {
        Skip = MpiLauncher.Path(flavor) is null
            ? $"needs {flavor} (apt-get install {MpiLauncher.Package(flavor)}; CI installs it)"
            : LocalSlurm.Unavailable();
        if (Skip is null && SharedData.Directory is null)
        {
            Skip = "needs ../shared/data beside the repository (CI provides it)";
        }
    }
}
