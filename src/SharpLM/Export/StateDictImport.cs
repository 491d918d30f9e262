using SharpLM.Model;
using SharpLM.Tokenization;
using SharpLM.Training;
using static TorchSharp.torch;

namespace SharpLM.Export;

/// <summary>
/// Makes a SharpLM run directory from weights trained elsewhere (PyTorch's .pt or .safetensors) under the CS336
/// state-dict keys, with their architecture and tokenizer: the checkpoint step-0 and tokenizer/.
/// </summary>
public static class StateDictImport
{
    /// <summary>The metadata key under which the safetensors export stores the model configuration.</summary>
    public const string ModelConfigMetadataKey = "model_config";

    /// <param name="modelConfigPath">A TransformerConfig JSON file; null to take the one a SharpLM safetensors file carries.</param>
    /// <returns>The checkpoint written.</returns>
    /// <exception cref="InvalidDataException">A key is missing, unexpected or of the wrong shape (named), or the tokenizer does not fit.</exception>
    public static string ToRun(string stateDictPath, string? modelConfigPath, string tokenizerDirectory, string runDirectory)
    {
        ArgumentNullException.ThrowIfNull(stateDictPath);
        var tokenizer = Tokenizer.Load(tokenizerDirectory);
        var run = new RunDirectory(runDirectory);
        if (run.LatestCheckpoint() is { } existing)
        {
            throw new IOException($"{run.Path} already holds a checkpoint ({existing}); import into a new directory.");
        }
        var weights = Read(stateDictPath, out string? embeddedConfig);
        try
        {
            string configJson = modelConfigPath is not null
                ? File.ReadAllText(modelConfigPath)
                : embeddedConfig ?? throw new ArgumentException($"{stateDictPath} carries no model configuration: pass --model-config.");
            var config = TransformerConfig.FromJson(configJson);
            if (tokenizer.VocabularySize != config.VocabSize)
            {
                throw new InvalidDataException($"the tokenizer has {tokenizer.VocabularySize} tokens but vocab_size is {config.VocabSize}.");
            }
            using var model = new TransformerLM(config, CPU);
            Load(model, weights);
            run.EnsureWritable();
            tokenizer.Save(run.TokenizerDirectory);
            string checkpoint = run.CheckpointPath(0);
            using var optimizer = new AdamW(model.parameters());
            Checkpoint.Save(model, optimizer, 0, checkpoint, new CheckpointMetadata { ModelConfig = config.ToJson() });
            return checkpoint;
        }
        finally
        {
            StateDicts.Dispose(weights);
        }
    }

    /// <summary>Reads a .safetensors file (with the model configuration its metadata may carry) or a torch.save file.</summary>
    public static Dictionary<string, Tensor> Read(string path, out string? modelConfig)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            var tensors = Safetensors.Read(path, out var metadata);
            modelConfig = metadata.GetValueOrDefault(ModelConfigMetadataKey);
            return tensors;
        }
        modelConfig = null;
        return PyTorchStateDict.Read(path);
    }

    /// <summary>Copies <paramref name="weights"/> into <paramref name="model"/> after checking every key and shape.</summary>
    public static void Load(TransformerLM model, IReadOnlyDictionary<string, Tensor> weights)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(weights);
        var parameters = model.state_dict();
        if (weights.Keys.FirstOrDefault(key => !parameters.ContainsKey(key)) is { } unexpected)
        {
            throw new InvalidDataException($"unexpected key {unexpected}: the CS336 model has no such weight.");
        }
        using var noGrad = no_grad();
        foreach (var (key, parameter) in parameters)
        {
            if (!weights.TryGetValue(key, out var weight))
            {
                throw new InvalidDataException($"missing key {key}.");
            }
            if (!weight.shape.SequenceEqual(parameter.shape))
            {
                throw new InvalidDataException($"{key} has shape [{string.Join(", ", weight.shape)}], expected [{string.Join(", ", parameter.shape)}].");
            }
            using var converted = weight.to(parameter.dtype, parameter.device);
            parameter.copy_(converted);
        }
    }
}
