using SharpLM.Generation;

namespace SharpLM.Export;

/// <summary>The file formats a trained model is exported to.</summary>
public enum ExportFormat
{
    /// <summary>llama.cpp's GGUF (and so Ollama, LM Studio, LLamaSharp).</summary>
    Gguf,

    /// <summary>A torch.save state dict under the CS336 keys.</summary>
    PyTorch,

    /// <summary>Hugging Face's safetensors under the CS336 keys, with the model config in its metadata.</summary>
    Safetensors,
}

/// <summary>Writes a trained model in an <see cref="ExportFormat"/>.</summary>
public static class ModelExport
{
    /// <exception cref="ArgumentException">A name other than gguf, pytorch or safetensors.</exception>
    public static ExportFormat ParseFormat(string name) => name.ToLowerInvariant() switch
    {
        "gguf" => ExportFormat.Gguf,
        "pytorch" or "pt" => ExportFormat.PyTorch,
        "safetensors" => ExportFormat.Safetensors,
        _ => throw new ArgumentException($"unknown format \"{name}\": expected gguf, pytorch or safetensors."),
    };

    public static void Write(TrainedModel trained, ExportFormat format, ExportDType dtype, string path)
    {
        ArgumentNullException.ThrowIfNull(trained);
        if (format == ExportFormat.Gguf)
        {
            // The run directory's name (run/checkpoints/step-N.ckpt) names the model in llama.cpp's listings.
            string run = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(trained.CheckpointPath)))!;
            GgufExport.Write(trained.Model, trained.Tokenizer, Path.GetFileName(run), dtype, path);
            return;
        }
        var stateDict = StateDicts.Export(trained.Model, dtype);
        try
        {
            if (format == ExportFormat.PyTorch)
            {
                PyTorchStateDict.Write(path, stateDict);
            }
            else
            {
                Safetensors.Write(path, stateDict, new Dictionary<string, string>
                {
                    ["format"] = "pt", // what Hugging Face's loaders expect of a PyTorch model's file
                    [StateDictImport.ModelConfigMetadataKey] = trained.Model.Config.ToJson(),
                });
            }
        }
        finally
        {
            StateDicts.Dispose(stateDict);
        }
    }
}
