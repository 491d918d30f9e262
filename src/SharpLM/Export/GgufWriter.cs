using System.Text;

namespace SharpLM.Export;

/// <summary>ggml's tensor types that SharpLM writes (ggml.h's enum ggml_type).</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    BF16 = 30,
}

/// <summary>One tensor of a GGUF file; <paramref name="Dimensions"/> innermost first (ggml's ne), so an (out, in) matrix is [in, out].</summary>
/// <param name="WriteData">Writes the tensor's bytes, row-major, little-endian.</param>
public sealed record GgufTensor(string Name, long[] Dimensions, GgmlType Type, Action<Stream> WriteData)
{
    public long ByteCount => Dimensions.Aggregate(1L, (product, size) => product * size) * (Type == GgmlType.F32 ? 4 : 2);
}

/// <summary>
/// Writes GGUF version 3, llama.cpp's model file: magic, version, tensor count, key-value count, the key-values,
/// the tensor infos, padding to the alignment, then the tensor data, each tensor starting at a multiple of it.
/// </summary>
/// <remarks>Specification: ggml's docs/gguf.md. Every integer is little-endian; strings are a uint64 length and UTF-8 bytes.</remarks>
public sealed class GgufWriter
{
    public const uint Version = 3;
    public const uint Alignment = 32;
    static readonly byte[] Magic = "GGUF"u8.ToArray();

    enum ValueType : uint
    {
        UInt32 = 4,
        Int32 = 5,
        Float32 = 6,
        Bool = 7,
        String = 8,
        Array = 9,
    }

    readonly List<(string Key, Action<BinaryWriter> Write)> metadata = [];
    readonly List<GgufTensor> tensors = [];
    readonly HashSet<string> keys = new(StringComparer.Ordinal);

    public GgufWriter() => Add("general.alignment", Alignment);

    public void Add(string key, uint value) => AddValue(key, writer => { Tag(writer, ValueType.UInt32); writer.Write(value); });

    public void Add(string key, float value) => AddValue(key, writer => { Tag(writer, ValueType.Float32); writer.Write(value); });

    public void Add(string key, bool value) => AddValue(key, writer => { Tag(writer, ValueType.Bool); writer.Write(value); });

    public void Add(string key, string value) => AddValue(key, writer => { Tag(writer, ValueType.String); WriteString(writer, value); });

    public void Add(string key, IReadOnlyList<string> values) => AddValue(key, writer =>
    {
        Tag(writer, ValueType.Array);
        Tag(writer, ValueType.String);
        writer.Write((ulong)values.Count);
        foreach (string value in values)
        {
            WriteString(writer, value);
        }
    });

    public void Add(string key, IReadOnlyList<int> values) => AddValue(key, writer =>
    {
        Tag(writer, ValueType.Array);
        Tag(writer, ValueType.Int32);
        writer.Write((ulong)values.Count);
        foreach (int value in values)
        {
            writer.Write(value);
        }
    });

    public void Add(GgufTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensors.Any(existing => existing.Name == tensor.Name))
        {
            throw new ArgumentException($"tensor {tensor.Name} is already in the file.", nameof(tensor));
        }
        tensors.Add(tensor);
    }

    /// <summary>Writes the file to <paramref name="stream"/> from its current position.</summary>
    public void Write(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        long start = stream.Position;
        writer.Write(Magic);
        writer.Write(Version);
        writer.Write((ulong)tensors.Count);
        writer.Write((ulong)metadata.Count);
        foreach (var (key, write) in metadata)
        {
            WriteString(writer, key);
            write(writer);
        }
        long offset = 0;
        foreach (var tensor in tensors)
        {
            WriteString(writer, tensor.Name);
            writer.Write((uint)tensor.Dimensions.Length);
            foreach (long size in tensor.Dimensions)
            {
                writer.Write((ulong)size);
            }
            writer.Write((uint)tensor.Type);
            writer.Write((ulong)offset); // relative to the start of the data section
            offset = Align(offset + tensor.ByteCount);
        }
        Pad(writer, stream.Position - start);
        long dataStart = stream.Position;
        foreach (var tensor in tensors)
        {
            writer.Flush();
            long before = stream.Position;
            tensor.WriteData(stream);
            long written = stream.Position - before;
            if (written != tensor.ByteCount)
            {
                throw new InvalidOperationException($"tensor {tensor.Name} wrote {written} bytes, expected {tensor.ByteCount}.");
            }
            Pad(writer, stream.Position - dataStart);
        }
        writer.Flush();
    }

    void AddValue(string key, Action<BinaryWriter> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (!keys.Add(key))
        {
            throw new ArgumentException($"key {key} is already in the file.", nameof(key));
        }
        metadata.Add((key, write));
    }

    static long Align(long offset) => (offset + Alignment - 1) / Alignment * Alignment;

    static void Pad(BinaryWriter writer, long length)
    {
        for (long i = length; i < Align(length); i++)
        {
            writer.Write((byte)0);
        }
    }

    static void Tag(BinaryWriter writer, ValueType type) => writer.Write((uint)type);

    static void WriteString(BinaryWriter writer, string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        writer.Write((ulong)bytes.Length);
        writer.Write(bytes);
    }
}
