using System.Globalization;
using SharpLM.Distributed;
using SharpLM.MpiPeer;
using SharpLM.Tests.Packaging;

namespace SharpLM.Tests.Distributed;

/// <summary>
/// Two hosts made of this machine: two network namespaces joined by a veth pair (10.77.0.1 and 10.77.0.2), one
/// rank in each, talking TCP only, as on a cluster without a shared network stack. Open MPI starts the remote
/// daemon through an rsh agent that runs it in the namespace owning the host instead of ssh-ing there.
/// </summary>
[Collection(MpiCollection.Name)]
public sealed class TwoHostTests : IDisposable
{
    static readonly string Suffix = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
    readonly string directory = Directory.CreateTempSubdirectory("sharplm-mpi-hosts-").FullName;
    readonly string[] namespaces = [$"sharplmA{Suffix}", $"sharplmB{Suffix}"];

    public void Dispose()
    {
        foreach (string name in namespaces)
        {
            Ip("netns", "del", name); // also removes its end of the veth pair
        }
        Directory.Delete(directory, recursive: true);
    }

    [TwoHostFact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void TwoRanksOnTwoHostsOverTcp_EqualOneProcessOnTheWholeBatch()
    {
        string[] addresses = ["10.77.0.1", "10.77.0.2"];
        string[] links = [$"slA{Suffix}", $"slB{Suffix}"];
        foreach (string name in namespaces)
        {
            Ip("netns", "add", name).AssertSuccess($"ip netns add {name}");
        }
        Ip("link", "add", links[0], "type", "veth", "peer", "name", links[1]).AssertSuccess("ip link add (veth pair)");
        for (int host = 0; host < 2; host++)
        {
            Ip("link", "set", links[host], "netns", namespaces[host]).AssertSuccess("ip link set netns");
            Ip("-n", namespaces[host], "addr", "add", addresses[host] + "/24", "dev", links[host]).AssertSuccess("ip addr add");
            Ip("-n", namespaces[host], "link", "set", links[host], "up").AssertSuccess("ip link set up");
            Ip("-n", namespaces[host], "link", "set", "lo", "up").AssertSuccess("ip link set lo up");
        }
        string launches = Path.Combine(directory, "launches.txt");
        string agent = Path.Combine(directory, "netns-rsh");
        // Open MPI calls the agent like ssh: [options] host command; the command is a shell line.
        File.WriteAllText(agent, $$"""
            #!/bin/sh
            while [ "${1#-}" != "$1" ]; do shift; done
            host=$1; shift
            case $host in {{addresses[0]}}) ns={{namespaces[0]}};; {{addresses[1]}}) ns={{namespaces[1]}};; *) echo "unknown host $host" >&2; exit 1;; esac
            echo "$host $ns" >> {{launches}}
            exec ip netns exec "$ns" sh -c "$*"

            """);
        File.SetUnixFileMode(agent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        string prefix = Path.Combine(directory, "weights");
        string peer = Path.Combine(AppContext.BaseDirectory, "SharpLM.MpiPeer");
        string subnet = "10.77.0.0/24";
        DotnetCommand.Run("ip", directory, MpiLauncher.Variables(),
            "netns", "exec", namespaces[0], MpiLauncher.Path(MpiFlavor.OpenMpi)!, "--host", $"{addresses[0]}:1,{addresses[1]}:1", "-np", "2",
            "--mca", "plm_rsh_agent", agent, "--mca", "pml", "ob1", "--mca", "btl", "self,tcp",
            "--mca", "btl_tcp_if_include", subnet, "--mca", "oob_tcp_if_include", subnet,
            peer, "train", prefix, "20", "1").AssertSuccess("ip netns exec A mpirun --host 10.77.0.1:1,10.77.0.2:1 SharpLM.MpiPeer");

        Assert.Equal($"{addresses[1]} {namespaces[1]}", File.ReadAllText(launches).Trim());
        byte[] rank0 = File.ReadAllBytes(prefix + ".rank0");
        Assert.True(rank0.AsSpan().SequenceEqual(File.ReadAllBytes(prefix + ".rank1")), "the two hosts' weights differ");
        float[] parallel = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(rank0).ToArray();
        float[] whole = DataParallelProbe.Train(SingleProcess.Instance, 20, accumulationSteps: 1);
        double difference = parallel.Zip(whole, (x, y) => Math.Abs((double)x - y)).Max();
        Assert.True(difference <= 1e-5, $"2 hosts × B differ from 1 process × 2B by {difference}");
    }

    static ProcessResult Ip(params string[] arguments) => DotnetCommand.Run("ip", "/", new Dictionary<string, string>(), arguments);
}

/// <summary>Needs Open MPI, iproute2 and root (network namespaces); CI has all three.</summary>
public sealed class TwoHostFactAttribute : FactAttribute
{
    public TwoHostFactAttribute()
    {
        if (MpiLauncher.Path(MpiFlavor.OpenMpi) is null)
        {
            Skip = $"needs Open MPI (apt-get install {MpiLauncher.Package(MpiFlavor.OpenMpi)}; CI installs it)";
        }
        else if (Environment.UserName != "root" || !File.Exists("/usr/sbin/ip") && !File.Exists("/sbin/ip"))
        {
            Skip = "needs root and iproute2 to make two hosts out of network namespaces (CI runs as root)";
        }
    }
}
