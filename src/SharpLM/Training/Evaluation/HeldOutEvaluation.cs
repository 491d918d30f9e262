using SharpLM.Data;
using SharpLM.Generation;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>What <see cref="HeldOutEvaluation.Run"/> measured, with the windowing that produced it.</summary>
/// <param name="Tokens">Targets scored: every token of the data but the first.</param>
/// <param name="Bytes">UTF-8 bytes of the scored tokens (a special token counts its text).</param>
/// <param name="BitsPerByte">Total loss in bits over <paramref name="Bytes"/>: comparable across tokenizers.</param>
public sealed record HeldOutReport(
    string Data,
    double Loss,
    double Perplexity,
    long Tokens,
    long Bytes,
    double BitsPerByte,
    int WindowLength,
    int Stride,
    int Windows);

/// <summary>Evaluates a trained model on a text or token file, every target once (see <see cref="EvaluationWindows.Strided"/>).</summary>
public static class HeldOutEvaluation
{
    /// <param name="dataPath">A token file (with its .json description) or a UTF-8 text file, which is tokenized first.</param>
    /// <param name="stride">How far windows advance; null for the context length (non-overlapping windows).</param>
    public static HeldOutReport Run(TrainedModel trained, string dataPath, int? stride, int batchSize, Device device, IProgress<(long Done, long Total)>? windowsDone = null)
    {
        ArgumentNullException.ThrowIfNull(trained);
        ArgumentNullException.ThrowIfNull(dataPath);
        if (!File.Exists(dataPath))
        {
            throw new FileNotFoundException($"data file not found: {dataPath}", dataPath);
        }
        string? temporary = null;
        try
        {
            using var data = OpenTokens(trained, dataPath, ref temporary);
            int contextLength = trained.Model.Config.ContextLength;
            int advance = stride ?? contextLength;
            var windows = EvaluationWindows.Strided(data.Count, contextLength, advance);
            var progress = windowsDone is null ? null : new CallbackProgress<long>(done => windowsDone.Report((done, windows.Count)));
            var result = Evaluation.Evaluate(trained.Model, data, windows, batchSize, device, progress);
            long bytes = ScoredBytes(trained, data);
            return new HeldOutReport(dataPath, result.Loss, result.Perplexity, result.Tokens, bytes,
                result.Loss * result.Tokens / (Math.Log(2) * bytes), windows[0].Length, advance, windows.Count);
        }
        finally
        {
            if (temporary is not null)
            {
                Directory.Delete(temporary, recursive: true);
            }
        }
    }

    /// <summary>A token file as it is; a text file encoded into a temporary token file that the caller deletes.</summary>
    static TokenDataset OpenTokens(TrainedModel trained, string dataPath, ref string? temporary)
    {
        if (File.Exists(TokenFile.SidecarPath(dataPath)))
        {
            return TokenDataset.Open(dataPath, trained.Tokenizer.Hash);
        }
        temporary = Directory.CreateTempSubdirectory("sharplm-evaluate-").FullName;
        string tokens = Path.Combine(temporary, "data.tokens");
        TokenFile.Encode(trained.Tokenizer, dataPath, tokens);
        return TokenDataset.Open(tokens, trained.Tokenizer.Hash);
    }

    /// <summary>Every token but the first is a target: their bytes are the text the loss is spent on.</summary>
    static long ScoredBytes(TrainedModel trained, TokenDataset data)
    {
        const int chunk = 1 << 16;
        var buffer = new long[chunk];
        long bytes = 0;
        for (long start = 1; start < data.Count; start += chunk)
        {
            var span = buffer.AsSpan(0, (int)Math.Min(chunk, data.Count - start));
            data.Read(start, span);
            foreach (long id in span)
            {
                bytes += trained.Tokenizer.TokenBytes((int)id).Length;
            }
        }
        return bytes;
    }
}
