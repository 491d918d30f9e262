using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>
/// Saves and restores model weights, optimizer state, the iteration and <see cref="CheckpointMetadata"/> (§5.2).
/// </summary>
/// <remarks>
/// Layout: magic "SHARPLMC", int32 version, int64 payload length, payload (metadata JSON, model state
/// dict, optimizer state dict, in TorchSharp's binary formats), SHA-256 of the payload. The length and the hash
/// make a truncated or damaged file fail loudly instead of loading garbage. Files are written atomically, so
/// a crash mid-save leaves the previous checkpoint intact.
/// </remarks>
public static class Checkpoint
{
    static readonly byte[] Magic = "SHARPLMC"u8.ToArray();
    const int Version = 1;
    const int HeaderLength = 8 + 4 + 8;
    const int HashLength = 32;

    public static void Save(nn.Module model, OptimizerHelper optimizer, long iteration, string path, CheckpointMetadata? metadata = null) =>
        IO.AtomicFile.Write(path, stream => Save(model, optimizer, iteration, stream, metadata));

    /// <summary>Writes a checkpoint to a seekable stream at its current position.</summary>
    public static void Save(nn.Module model, OptimizerHelper optimizer, long iteration, Stream stream, CheckpointMetadata? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek)
        {
            throw new ArgumentException("the checkpoint stream must be seekable.", nameof(stream));
        }
        long start = stream.Position;
        stream.Write(Magic);
        stream.Write(BitConverter.GetBytes(Version));
        stream.Write(BitConverter.GetBytes(0L)); // payload length, filled in below

        using var hashing = new HashingStream(stream);
        using (var writer = new BinaryWriter(hashing, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(JsonSerializer.Serialize((metadata ?? new CheckpointMetadata()) with { Iteration = iteration }));
            model.save(writer);
            optimizer.save_state_dict(writer);
        }
        long end = stream.Position;
        stream.Write(hashing.Hash());
        long afterHash = stream.Position;
        stream.Position = start + 12;
        stream.Write(BitConverter.GetBytes(end - start - HeaderLength));
        stream.Position = afterHash;
    }

    /// <summary>Restores <paramref name="model"/> and <paramref name="optimizer"/> in place; returns the iteration.</summary>
    public static long Load(string path, nn.Module model, OptimizerHelper optimizer) => Load(path, model, optimizer, out _);

    public static long Load(string path, nn.Module model, OptimizerHelper optimizer, out CheckpointMetadata metadata)
    {
        using var stream = OpenRead(path);
        return Load(stream, model, optimizer, out metadata);
    }

    public static long Load(Stream stream, nn.Module model, OptimizerHelper optimizer) => Load(stream, model, optimizer, out _);

    public static long Load(Stream stream, nn.Module model, OptimizerHelper optimizer, out CheckpointMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        using var reader = OpenPayload(stream, out metadata);
        try
        {
            model.load(reader, strict: true);
            optimizer.load_state_dict(reader);
        }
        catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or EndOfStreamException)
        {
            throw new InvalidDataException($"the checkpoint does not fit this model or optimizer: {exception.Message}", exception);
        }
        return metadata.Iteration;
    }

    /// <summary>Restores only the model's weights (for generation); returns the metadata.</summary>
    public static CheckpointMetadata LoadModel(string path, nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var stream = OpenRead(path);
        using var reader = OpenPayload(stream, out var metadata);
        try
        {
            model.load(reader, strict: true);
        }
        catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or EndOfStreamException)
        {
            throw new InvalidDataException($"the checkpoint does not fit this model: {exception.Message}", exception);
        }
        return metadata;
    }

    /// <summary>Reads only the metadata (e.g. to build the model from its saved configuration before loading).</summary>
    public static CheckpointMetadata ReadMetadata(string path)
    {
        using var stream = OpenRead(path);
        using var reader = OpenPayload(stream, out var metadata);
        return metadata;
    }

    static FileStream OpenRead(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"checkpoint not found: {path}", path);
        }
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
    }

    /// <summary>Checks magic, version, length and hash; leaves the reader just after the metadata.</summary>
    static BinaryReader OpenPayload(Stream stream, out CheckpointMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long start = stream.Position;
        long available = stream.Length - start;
        var header = new byte[HeaderLength];
        int headerRead = stream.ReadAtLeast(header, HeaderLength, throwOnEndOfStream: false);
        if (headerRead < Magic.Length || !header.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            string found = Convert.ToHexString(header, 0, Math.Min(headerRead, Magic.Length));
            throw new InvalidDataException($"not a SharpLM checkpoint: expected magic {Convert.ToHexString(Magic)}, found {(found.Length == 0 ? "an empty file" : found)}.");
        }
        if (headerRead < HeaderLength)
        {
            throw new InvalidDataException($"the checkpoint is truncated: {available} bytes, shorter than its {HeaderLength}-byte header.");
        }
        int version = BitConverter.ToInt32(header, 8);
        if (version != Version)
        {
            throw new InvalidDataException($"unsupported checkpoint version: expected {Version}, found {version}.");
        }
        long payloadLength = BitConverter.ToInt64(header, 12);
        long expected = HeaderLength + payloadLength + HashLength;
        if (payloadLength < 0 || available < expected)
        {
            throw new InvalidDataException($"the checkpoint is truncated: expected {expected} bytes, found {available}.");
        }

        using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            var buffer = new byte[1 << 20];
            for (long left = payloadLength; left > 0;)
            {
                int read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                sha.AppendData(buffer, 0, read);
                left -= read;
            }
            var stored = new byte[HashLength];
            stream.ReadExactly(stored);
            if (!sha.GetHashAndReset().AsSpan().SequenceEqual(stored))
            {
                throw new InvalidDataException("the checkpoint is corrupt: its content does not match its SHA-256.");
            }
        }

        stream.Position = start + HeaderLength;
        var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        metadata = JsonSerializer.Deserialize<CheckpointMetadata>(reader.ReadString())
            ?? throw new InvalidDataException("the checkpoint's metadata is empty.");
        return reader;
    }

    /// <summary>Forwards writes and hashes them, so the payload is hashed without a second pass.</summary>
    sealed class HashingStream(Stream inner) : Stream
    {
        readonly IncrementalHash sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public byte[] Hash() => sha.GetHashAndReset();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            sha.AppendData(buffer);
            inner.Write(buffer);
        }

        public override void Flush() => inner.Flush();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                sha.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
