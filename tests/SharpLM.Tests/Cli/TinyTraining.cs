using SharpLM.Data;

namespace SharpLM.Tests.Cli;

/// <summary>The arguments of a `sharplm train` run small enough for a test: a story corpus, a one-layer model, 12 steps.</summary>
static class TinyTraining
{
    /// <summary>Writes a corpus of <paramref name="stories"/> stories to <paramref name="directory"/>/<paramref name="name"/>.</summary>
    public static string Corpus(string directory, string name, int stories, int seed)
    {
        string path = Path.Combine(directory, name);
        StoryCorpus.Write(path, stories, seed);
        return path;
    }

    /// <summary>A tiny run's arguments; <paramref name="overrides"/> are flag/value pairs that replace the defaults.</summary>
    public static string[] Arguments(string directory, string runDirectory, params string[] overrides)
    {
        var flags = new Dictionary<string, string>
        {
            ["--train"] = Corpus(directory, "train.txt", 200, 1),
            ["--val"] = Corpus(directory, "val.txt", 20, 2),
            ["--vocab-size"] = "300",
            ["--context-length"] = "32",
            ["--d-model"] = "32",
            ["--num-layers"] = "1",
            ["--num-heads"] = "2",
            ["--d-ff"] = "64",
            ["--batch-size"] = "4",
            ["--steps"] = "12",
            ["--warmup-iters"] = "2",
            ["--eval-interval"] = "6",
            ["--eval-batches"] = "2",
            ["--checkpoint-interval"] = "6",
            ["--log-interval"] = "3",
            ["--run-dir"] = runDirectory,
        };
        for (int i = 0; i < overrides.Length; i += 2)
        {
            flags[overrides[i]] = overrides[i + 1];
        }
        return ["train", .. flags.SelectMany(pair => new[] { pair.Key, pair.Value })];
    }
}
