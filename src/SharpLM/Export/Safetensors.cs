using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace SharpLM.Export;

/// <summary>
/// The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON mapping each tensor
/// name to {dtype, shape, data_offsets: [begin, end)} into the data that follows, and an optional "__metadata__" object
/// of strings; the data is every tensor's bytes, row-major little-endian, with no gaps.
/// </summary>
public static class Safetensors
{
    const string MetadataKey = "__metadata__";

    /// <summary>Writes <paramref name="tensors"/> (in their own dtypes) and <paramref name="metadata"/> atomically.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(metadata);
        var header = new JsonObject { [MetadataKey] = new JsonObject([.. metadata.Select(entry => KeyValuePair.Create(entry.Key, (JsonNode?)entry.Value))]) };
        long offset = 0;
        foreach (var (name, tensor) in tensors)
        {
            long length = tensor.NumberOfElements * tensor.ElementSize;
            header[name] = new JsonObject
            {
                ["dtype"] = DTypeName(tensor.dtype),
                ["shape"] = new JsonArray([.. tensor.shape.Select(size => (JsonNode?)size)]),
                ["data_offsets"] = new JsonArray(offset, offset + length),
            };
            offset += length;
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        // Padding the header with spaces to a multiple of 8 keeps the data aligned, as Hugging Face's writer does.
        int padded = (json.Length + 7) / 8 * 8;
        IO.AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            stream.Write(length);
            stream.Write(json);
            stream.Write(Enumerable.Repeat((byte)' ', padded - json.Length).ToArray());
            foreach (var tensor in tensors.Values)
            {
                using var cpu = tensor.cpu().contiguous();
                stream.Write(cpu.bytes);
            }
        });
    }

    /// <summary>Reads every tensor (on the CPU, in its stored dtype) and the metadata.</summary>
    /// <exception cref="InvalidDataException">The file does not follow the format.</exception>
    public static Dictionary<string, Tensor> Read(string path, out IReadOnlyDictionary<string, string> metadata)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"state dict not found: {path}", path);
        }
        byte[] file = File.ReadAllBytes(path);
        if (file.Length < 8)
        {
            throw new InvalidDataException($"{path}: {file.Length} bytes is too short for a safetensors file.");
        }
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength > (ulong)(file.Length - 8))
        {
            throw new InvalidDataException($"{path}: the header length {headerLength} exceeds the file's {file.Length - 8} remaining bytes; not a safetensors file.");
        }
        JsonObject header;
        try
        {
            header = JsonNode.Parse(file.AsSpan(8, (int)headerLength))?.AsObject() ?? throw new InvalidDataException($"{path}: the header is not a JSON object.");
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: the header is not a JSON object: {exception.Message}", exception);
        }
        int dataStart = 8 + (int)headerLength;
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var readMetadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, node) in header)
        {
            if (name == MetadataKey)
            {
                foreach (var (key, value) in node!.AsObject())
                {
                    readMetadata[key] = value!.GetValue<string>();
                }
                continue;
            }
            var info = node!.AsObject();
            var dtype = ScalarTypeOf(info["dtype"]!.GetValue<string>(), name);
            long[] shape = [.. info["shape"]!.AsArray().Select(size => size!.GetValue<long>())];
            var offsets = info["data_offsets"]!.AsArray();
            long begin = offsets[0]!.GetValue<long>();
            long end = offsets[1]!.GetValue<long>();
            using var probe = empty(shape, dtype);
            if (begin < 0 || end < begin || dataStart + end > file.Length || end - begin != probe.NumberOfElements * probe.ElementSize)
            {
                throw new InvalidDataException($"{path}: tensor {name} has data offsets [{begin}, {end}) that do not fit its shape or the file.");
            }
            var tensor = empty(shape, dtype);
            file.AsSpan(dataStart + (int)begin, (int)(end - begin)).CopyTo(tensor.bytes);
            tensors.Add(name, tensor);
        }
        metadata = readMetadata;
        return tensors;
    }

    static string DTypeName(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Float64 => "F64",
        _ => throw new NotSupportedException($"safetensors export of {dtype} is not supported."),
    };

    static ScalarType ScalarTypeOf(string name, string tensor) => name switch
    {
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "F64" => ScalarType.Float64,
        _ => throw new InvalidDataException($"tensor {tensor} has dtype {name}; SharpLM reads F64, F32, F16 and BF16."),
    };
}
