using SharpLM.Distributed;
using SharpLM.MpiPeer;

// Usage: SharpLM.MpiPeer <output prefix> <steps> <accumulation steps>; started by an MPI launcher, each rank writes
// its weights as raw float32 to <prefix>.rank<r>.
if (args.Length != 3)
{
    Console.Error.WriteLine("usage: SharpLM.MpiPeer <output prefix> <steps> <accumulation steps>");
    return 2;
}
var world = LaunchedWorld.FromEnvironment() ?? throw new InvalidOperationException("start this program with mpirun or mpiexec, -np 2 or more.");
using var group = MpiProcessGroup.Start(world);
float[] weights = DataParallelProbe.Train(group, int.Parse(args[1]), int.Parse(args[2]));
File.WriteAllBytes($"{args[0]}.rank{group.Rank}", System.Runtime.InteropServices.MemoryMarshal.AsBytes(weights.AsSpan()).ToArray());
Console.WriteLine($"rank {group.Rank} of {group.Size} on {group.Library}: {weights.Length} weights");
return 0;
