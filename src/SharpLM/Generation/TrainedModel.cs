using SharpLM.Model;
using SharpLM.Tokenization;
using SharpLM.Training;
using static TorchSharp.torch;

namespace SharpLM.Generation;

/// <summary>A model and its tokenizer restored from a run, ready to generate.</summary>
public sealed class TrainedModel(TransformerLM model, Tokenizer tokenizer, string checkpointPath) : IDisposable
{
    public TransformerLM Model { get; } = model;
    public Tokenizer Tokenizer { get; } = tokenizer;
    public string CheckpointPath { get; } = checkpointPath;

    /// <summary>
    /// Loads a checkpoint file, or the latest checkpoint of a run directory, building the model from the
    /// configuration saved in it. The tokenizer defaults to the run's own copy (run/tokenizer).
    /// </summary>
    public static TrainedModel Load(string checkpointOrRun, string? tokenizerDirectory, Device device)
    {
        ArgumentNullException.ThrowIfNull(checkpointOrRun);
        string checkpoint = Directory.Exists(checkpointOrRun)
            ? new RunDirectory(checkpointOrRun).LatestCheckpoint() ?? throw new FileNotFoundException($"no checkpoint in {checkpointOrRun}.")
            : checkpointOrRun;
        var metadata = Checkpoint.ReadMetadata(checkpoint);
        var config = TransformerConfig.FromJson(metadata.ModelConfig
            ?? throw new InvalidDataException($"{checkpoint} does not record its model configuration."));
        string tokenizerPath = tokenizerDirectory
            ?? Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(checkpoint)))!, "tokenizer");
        var tokenizer = Tokenizer.Load(tokenizerPath);
        var model = new TransformerLM(config, device);
        try
        {
            Checkpoint.LoadModel(checkpoint, model);
            return new TrainedModel(model, tokenizer, checkpoint);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public void Dispose() => Model.Dispose();
}
