using SharpLM.Model;
using SharpLM.Tokenization;
using SharpLM.Training;
using static TorchSharp.torch;

namespace SharpLM.Generation;

/// <summary>A model and its tokenizer restored from a run, ready to generate.</summary>
public sealed class TrainedModel(TransformerLM model, Tokenizer tokenizer, string checkpointPath, IReadOnlyList<string>? skipped = null) : IDisposable
{
    public TransformerLM Model { get; } = model;
    public Tokenizer Tokenizer { get; } = tokenizer;
    public string CheckpointPath { get; } = checkpointPath;

    /// <summary>Newer checkpoints of the run that were unreadable and passed over, each with its reason.</summary>
    public IReadOnlyList<string> Skipped { get; } = skipped ?? [];

    /// <summary>
    /// Loads a checkpoint file, or the newest readable checkpoint of a run directory (see <see cref="Skipped"/>),
    /// building the model from the configuration saved in it. The tokenizer defaults to the run's own copy (run/tokenizer).
    /// </summary>
    public static TrainedModel Load(string checkpointOrRun, string? tokenizerDirectory, Device device)
    {
        ArgumentNullException.ThrowIfNull(checkpointOrRun);
        var found = Directory.Exists(checkpointOrRun)
            ? ReadableCheckpoint.Find(new RunDirectory(checkpointOrRun)) ?? throw new FileNotFoundException($"no checkpoint in {checkpointOrRun}.")
            : null;
        string checkpoint = found?.Path ?? checkpointOrRun;
        var metadata = found?.Metadata ?? Checkpoint.ReadMetadata(checkpoint);
        var config = TransformerConfig.FromJson(metadata.ModelConfig
            ?? throw new InvalidDataException($"{checkpoint} does not record its model configuration."));
        string tokenizerPath = tokenizerDirectory
            ?? Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(checkpoint)))!, "tokenizer");
        var tokenizer = Tokenizer.Load(tokenizerPath);
        var model = new TransformerLM(config, device);
        try
        {
            Checkpoint.LoadModel(checkpoint, model);
            return new TrainedModel(model, tokenizer, checkpoint, found?.Skipped);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public void Dispose() => Model.Dispose();
}
