using System.Collections;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SharpLM.Export;

/// <summary>PyTorch's torch.save format (a zip of a pickled dict and the tensors' storages), through TorchSharp.PyBridge.</summary>
public static class PyTorchStateDict
{
    /// <summary>Writes a file that <c>torch.load</c> reads as a dict of tensors, atomically.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var table = new Hashtable();
        foreach (var (name, tensor) in tensors)
        {
            table[name] = tensor;
        }
        IO.AtomicFile.Write(path, stream => PyTorchPickler.PickleStateDict(stream, table, leaveOpen: true));
    }

    /// <summary>Reads a file written by <c>torch.save(state_dict, path)</c> (the zip format of PyTorch ≥ 1.6).</summary>
    /// <exception cref="InvalidDataException">Not such a file, or an entry that is not a tensor.</exception>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"state dict not found: {path}", path);
        }
        Hashtable table;
        try
        {
            table = PyTorchUnpickler.UnpickleStateDict(path);
        }
        catch (Exception exception) when (exception is not IOException)
        {
            throw new InvalidDataException($"{path} is not a PyTorch state dict saved by torch.save: {exception.Message}", exception);
        }
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in table)
        {
            string key = entry.Key as string ?? throw new InvalidDataException($"{path}: a key is not a string ({entry.Key}).");
            tensors.Add(key, entry.Value as Tensor ?? throw new InvalidDataException($"{path}: {key} is not a tensor."));
        }
        return tensors;
    }
}
