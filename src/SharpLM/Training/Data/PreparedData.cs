using SharpLM.Data;
using SharpLM.Tokenization;

namespace SharpLM.Training;

/// <summary>A step of data preparation and how far it has got (in bytes or merges).</summary>
public sealed record PreparationProgress(string Task, long Done, long Total);

/// <summary>The datasets and tokenizer a run trains with.</summary>
public sealed class PreparedData(TokenDataset train, TokenDataset? validation, Tokenizer? tokenizer) : IDisposable
{
    public TokenDataset Train { get; } = train;
    public TokenDataset? Validation { get; } = validation;

    /// <summary>Null only when the run was given token files and no tokenizer.</summary>
    public Tokenizer? Tokenizer { get; } = tokenizer;

    public int VocabularySize => Math.Max(Train.VocabularySize, Validation?.VocabularySize ?? 0);

    public void Dispose()
    {
        Train.Dispose();
        Validation?.Dispose();
    }
}
