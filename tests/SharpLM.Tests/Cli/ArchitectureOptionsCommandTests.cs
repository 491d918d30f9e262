using SharpLM.Cli;
using SharpLM.Model;
using SharpLM.Training;

namespace SharpLM.Tests.Cli;

/// <summary>Each architecture option through `sharplm train`: saved, resumed, generated from, exported or refused.</summary>
[Collection(ProcessMemoryCollection.Name)]
public sealed class ArchitectureOptionsCommandTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("sharplm-cli-arch-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Theory]
    [InlineData("post-norm, final norm, RoPE, SwiGLU, untied head", "--norm", "post")]
    [InlineData("no block norms, no final norm, RoPE, SwiGLU, untied head", "--norm", "none", "--final-norm", "false")]
    [InlineData("pre-norm, final norm, NoPE, SwiGLU, untied head", "--position", "nope")]
    [InlineData("pre-norm, final norm, RoPE, SiLU FFN, untied head", "--ffn", "silu", "--d-ff", "128")]
    [InlineData("pre-norm, final norm, RoPE, SwiGLU, tied embeddings", "--tie-embeddings", "true")]
    public void Train_WithAnOption_SavesItAndResumesGeneratesAndExportsTheVariant(string described, params string[] option)
    {
        string run = Path.Combine(directory, "run");
        var trained = CliRun.Of(TinyTraining.Arguments(directory, run, [.. option, "--steps", "6", "--checkpoint-interval", "3", "--eval-interval", "3"]));
        Assert.True(trained.ExitCode == ExitCodes.Success, trained.Error + trained.Output);
        Assert.Contains(described, trained.Output, StringComparison.Ordinal);
        var saved = TransformerConfig.FromJson(Checkpoint.ReadMetadata(Path.Combine(run, "checkpoints", "step-00000006.ckpt")).ModelConfig!);
        Assert.Equal(described, saved.DescribeOptions());
        Assert.Equal(TrainingConfig.Load(Path.Combine(run, "config.json")).ModelConfig(saved.VocabSize), saved);

        // The architecture comes from the checkpoint, so the resumed run needs no option flags.
        var resumed = CliRun.Of("train", "--resume", "--run-dir", run, "--steps", "9");
        Assert.True(resumed.ExitCode == ExitCodes.Success, resumed.Error + resumed.Output);
        Assert.Contains("resuming at step 6", resumed.Output, StringComparison.Ordinal);
        Assert.Contains(described, resumed.Output, StringComparison.Ordinal);
        Assert.Contains("done: step 9", resumed.Output, StringComparison.Ordinal);

        string[] generate = ["generate", "--checkpoint", run, "--prompt", "Once upon a time", "--max-tokens", "12", "--seed", "3"];
        var generated = CliRun.Of(generate);
        Assert.True(generated.ExitCode == ExitCodes.Success, generated.Error);
        Assert.StartsWith("Once upon a time", generated.Output, StringComparison.Ordinal);

        // safetensors carries the config: imported into a new run, the variant generates the same text.
        string safetensors = Path.Combine(directory, "model.safetensors");
        Assert.Equal(ExitCodes.Success, CliRun.Of("export", "--checkpoint", run, "--format", "safetensors", "--out", safetensors).ExitCode);
        string imported = Path.Combine(directory, "imported");
        var import = CliRun.Of("import", "--state-dict", safetensors, "--tokenizer", Path.Combine(run, "tokenizer"), "--out", imported);
        Assert.True(import.ExitCode == ExitCodes.Success, import.Error);
        Assert.Equal(generated.Output, CliRun.Of([.. generate.Select(argument => argument == run ? imported : argument)]).Output);

        var gguf = CliRun.Of("export", "--checkpoint", run, "--format", "gguf", "--out", Path.Combine(directory, "model.gguf"));
        if (saved.TieEmbeddings)
        {
            Assert.True(gguf.ExitCode == ExitCodes.Success, gguf.Error);
        }
        else
        {
            gguf.AssertOneLineError("llama.cpp's llama architecture");
            Assert.False(File.Exists(Path.Combine(directory, "model.gguf")));
        }
    }

    [Fact]
    public void Train_WithAnUnknownOptionValue_IsAUsageError()
    {
        var result = CliRun.Of(TinyTraining.Arguments(directory, Path.Combine(directory, "bad"), "--norm", "sandwich"));

        Assert.Equal(ExitCodes.UsageError, result.ExitCode);
        Assert.Contains("sandwich", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(directory, "bad")));
    }
}
