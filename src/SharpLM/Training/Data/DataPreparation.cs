using System.Globalization;
using SharpLM.Data;
using SharpLM.Tokenization;

namespace SharpLM.Training;

/// <summary>
/// Turns a run's inputs into token datasets. Token files (with their .json sidecar) are used as they are;
/// text is encoded with the configured tokenizer, trained on the training text first when it does not exist,
/// and the token files are cached in the run directory so a resumed run does not encode again.
/// </summary>
public static class DataPreparation
{
    public static PreparedData Prepare(TrainingConfig config, RunDirectory run, IProgress<PreparationProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(run);
        string train = RequireInput(config.Train, "train");
        string? validation = config.Val is null ? null : RequireInput(config.Val, "val");

        var tokenizer = LoadOrTrainTokenizer(config, run, train, progress, cancellation);
        // The run keeps its own copy, so `generate` needs nothing but the run directory.
        if (tokenizer is not null && !File.Exists(Path.Combine(run.TokenizerDirectory, Gpt2TokenizerFormat.VocabularyFileName)))
        {
            tokenizer.Save(run.TokenizerDirectory);
        }
        var trainSet = Open(train, "train", tokenizer, run, progress, cancellation);
        try
        {
            var validationSet = validation is null ? null : Open(validation, "val", tokenizer, run, progress, cancellation);
            return new PreparedData(trainSet, validationSet, tokenizer);
        }
        catch
        {
            trainSet.Dispose();
            throw;
        }
    }

    /// <summary>True for a token file written by `sharplm tokenize` (it has a sidecar); false for raw text.</summary>
    public static bool IsTokenFile(string path) => File.Exists(TokenFile.SidecarPath(path));

    static string RequireInput(string? path, string name)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new ArgumentException($"no {name} data given (--{name} FILE).", name);
        }
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{name} data not found: {path}", path);
        }
        if (new FileInfo(path).Length == 0)
        {
            throw new InvalidDataException($"{name} data is empty: {path}");
        }
        return path;
    }

    static Tokenizer? LoadOrTrainTokenizer(TrainingConfig config, RunDirectory run, string train, IProgress<PreparationProgress>? progress, CancellationToken cancellation)
    {
        string directory = config.Tokenizer ?? run.TokenizerDirectory;
        if (File.Exists(Path.Combine(directory, Gpt2TokenizerFormat.VocabularyFileName)))
        {
            return Tokenizer.Load(directory);
        }
        if (config.Tokenizer is not null && IsTokenFile(train))
        {
            throw new DirectoryNotFoundException($"tokenizer not found: {config.Tokenizer}");
        }
        if (IsTokenFile(train))
        {
            return null;
        }
        var result = BpeTrainer.Train(train, config.VocabSize, config.SpecialTokens,
            progress is null ? null : new CallbackProgress<BpeTrainingProgress>(p => progress.Report(new PreparationProgress(
                p.Phase == BpeTrainingPhase.PreTokenizing ? "tokenizer: counting pre-tokens" : "tokenizer: merging", p.Done, p.Total))),
            cancellation);
        var tokenizer = result.ToTokenizer();
        tokenizer.Save(directory);
        return tokenizer;
    }

    static TokenDataset Open(string path, string name, Tokenizer? tokenizer, RunDirectory run, IProgress<PreparationProgress>? progress, CancellationToken cancellation)
    {
        if (IsTokenFile(path))
        {
            return TokenDataset.Open(path, tokenizer?.Hash);
        }
        if (tokenizer is null)
        {
            throw new ArgumentException($"{path} is text, but the training data are token files and no tokenizer was given to encode it.", name);
        }
        string cached = Path.Combine(run.DataDirectory, name + ".tokens");
        string fingerprintPath = cached + ".source";
        string fingerprint = Fingerprint(path, tokenizer);
        if (!(File.Exists(fingerprintPath) && File.ReadAllText(fingerprintPath) == fingerprint && IsTokenFile(cached)))
        {
            long total = new FileInfo(path).Length;
            string task = $"encoding {Path.GetFileName(path)}";
            TokenFile.Encode(tokenizer, path, cached,
                progress is null ? null : new CallbackProgress<long>(done => progress.Report(new PreparationProgress(task, done, total))), cancellation);
            progress?.Report(new PreparationProgress(task, total, total));
            IO.AtomicFile.WriteAllText(fingerprintPath, fingerprint);
        }
        return TokenDataset.Open(cached, tokenizer.Hash);
    }

    /// <summary>What the cached encoding was made from: the text file's identity and the tokenizer.</summary>
    static string Fingerprint(string path, Tokenizer tokenizer)
    {
        var file = new FileInfo(path);
        return string.Create(CultureInfo.InvariantCulture, $"{file.FullName}\n{file.Length}\n{file.LastWriteTimeUtc:O}\n{tokenizer.Hash}\n");
    }
}
