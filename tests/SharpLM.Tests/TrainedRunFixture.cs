using SharpLM.Cli;
using SharpLM.Data;
using SharpLM.Tests.Cli;

namespace SharpLM.Tests;

/// <summary>
/// One tiny run trained through `sharplm train` (a few seconds), shared by the tests of what reads a run:
/// evaluation and export. Its held-out text is a corpus the model never trained on.
/// </summary>
public sealed class TrainedRunFixture : IDisposable
{
    public TrainedRunFixture()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("sharplm-trained-run-").FullName;
        string train = Path.Combine(Directory, "train.txt");
        string validation = Path.Combine(Directory, "val.txt");
        HeldOutText = Path.Combine(Directory, "heldout.txt");
        StoryCorpus.Write(train, 300, 1);
        StoryCorpus.Write(validation, 20, 2);
        StoryCorpus.Write(HeldOutText, 12, 3);
        Run = Path.Combine(Directory, "run");
        var trained = CliRun.Of("train", "--train", train, "--val", validation, "--vocab-size", "400", "--context-length", "64",
            "--d-model", "32", "--num-layers", "2", "--num-heads", "2", "--d-ff", "64", "--batch-size", "8", "--steps", "300",
            "--warmup-iters", "10", "--eval-interval", "300", "--eval-batches", "2", "--checkpoint-interval", "300",
            "--log-interval", "100", "--run-dir", Run);
        if (trained.ExitCode != ExitCodes.Success)
        {
            throw new InvalidOperationException($"training the fixture run failed: {trained.Error}{trained.Output}");
        }
    }

    /// <summary>Scratch folder of the fixture; tests write their outputs under it.</summary>
    public string Directory { get; }

    /// <summary>The run directory (config, checkpoints/, tokenizer/).</summary>
    public string Run { get; }

    /// <summary>Stories of the built-in corpus drawn with another seed than the training ones.</summary>
    public string HeldOutText { get; }

    readonly Dictionary<string, string> made = new(StringComparer.Ordinal);

    /// <summary>A file under <see cref="Directory"/> made once by <paramref name="make"/> (e.g. an export) and shared by the tests.</summary>
    public string File(string name, Action<string> make)
    {
        ArgumentNullException.ThrowIfNull(make);
        lock (made)
        {
            if (!made.TryGetValue(name, out string? path))
            {
                path = Path.Combine(Directory, name);
                make(path);
                made.Add(name, path);
            }
            return path;
        }
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

/// <summary>Test classes that read <see cref="TrainedRunFixture"/> share one trained run.</summary>
[CollectionDefinition(Name)]
public sealed class TrainedRunCollection : ICollectionFixture<TrainedRunFixture>
{
    public const string Name = "trained run";
}
