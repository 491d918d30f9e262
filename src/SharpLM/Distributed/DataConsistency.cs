using System.Security.Cryptography;
using System.Text;
using SharpLM.Data;
using SharpLM.Training;

namespace SharpLM.Distributed;

/// <summary>
/// Checks at the start of a job that every rank reads the same token files as rank 0: on hosts without a shared
/// file system a stale copy would otherwise train silently on other data.
/// </summary>
public static class DataConsistency
{
    const int HostBytes = 64;

    /// <exception cref="InvalidDataException">A rank's files differ; the message names the rank, its host and the file.</exception>
    public static void Require(IProcessGroup group, PreparedData data)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(data);
        var hostName = new byte[HostBytes];
        byte[] encoded = Encoding.UTF8.GetBytes(Environment.MachineName);
        encoded.AsSpan(0, Math.Min(encoded.Length, HostBytes)).CopyTo(hostName);
        byte[][] hosts = group.AllGather(hostName);
        foreach (var (dataset, role) in new[] { (data.Train, "training"), (data.Validation, "validation") })
        {
            if (dataset is null)
            {
                continue;
            }
            byte[][] digests = group.AllGather(Digest(dataset));
            for (int rank = 1; rank < digests.Length; rank++)
            {
                if (!digests[rank].AsSpan().SequenceEqual(digests[0]))
                {
                    throw new InvalidDataException(
                        $"rank {rank} on host {Host(hosts[rank])} reads {role} data {dataset.Path} that differ from rank 0's on {Host(hosts[0])} " +
                        "(size or checksum): every rank must read the same files.");
                }
            }
        }
    }

    /// <summary>SHA-256 of the token count and the file's bytes.</summary>
    static byte[] Digest(TokenDataset dataset)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(BitConverter.GetBytes(dataset.Count));
        using var file = File.OpenRead(dataset.Path);
        var buffer = new byte[1 << 20];
        int read;
        while ((read = file.Read(buffer)) > 0)
        {
            hash.AppendData(buffer, 0, read);
        }
        return hash.GetHashAndReset();
    }

    static string Host(byte[] name) => Encoding.UTF8.GetString(name).TrimEnd('\0');
}
