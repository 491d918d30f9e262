using SharpLM.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Tests.Training;

public sealed class CheckpointTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("sharplm-checkpoint-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>The handout's checkpoint model: an MLP 100 → 200 → 100 → 10 with ReLU.</summary>
    static nn.Module<Tensor, Tensor> Mlp(ulong seed)
    {
        using var generator = new Generator(seed);
        var model = nn.Sequential(nn.Linear(100, 200), nn.ReLU(), nn.Linear(200, 100), nn.ReLU(), nn.Linear(100, 10));
        using var noGrad = no_grad();
        foreach (var parameter in model.parameters())
        {
            parameter.copy_(randn(parameter.shape, generator: generator).Times(0.1));
        }
        return model;
    }

    static void Train(nn.Module<Tensor, Tensor> model, SharpLM.Training.AdamW optimizer, Generator data, int steps)
    {
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            var x = randn(8, 100, generator: data);                       // (batch, 100)
            var y = randint(10, [8], generator: data, dtype: ScalarType.Int64);
            optimizer.zero_grad();
            Losses.CrossEntropy(model.call(x), y).backward();
            optimizer.step();
        }
    }

    static SharpLM.Training.AdamW Optimizer(nn.Module model) => new(model.parameters(), lr: 1e-2, weightDecay: 0.1);

    static byte[] State(Generator generator) => generator.get_state().data<byte>().ToArray();

    [Fact]
    public void SaveThenLoad_IntoFreshModelAndOptimizer_RestoresIterationParametersAndOptimizerState()
    {
        var model = Mlp(seed: 1);
        var optimizer = Optimizer(model);
        using var data = new Generator(2);
        Train(model, optimizer, data, 10);
        string path = Path.Combine(directory, "ckpt.bin");
        Checkpoint.Save(model, optimizer, 10, path);

        var fresh = Mlp(seed: 99);
        var freshOptimizer = Optimizer(fresh);
        Assert.Equal(10, Checkpoint.Load(path, fresh, freshOptimizer));

        foreach (var ((name, expected), (_, actual)) in model.named_parameters().Zip(fresh.named_parameters()))
        {
            Assert.True(expected.eq(actual).all().item<bool>(), $"parameter {name} differs");
        }
        var expectedStates = optimizer.state_dict().State.Cast<SharpLM.Training.AdamW.State>().ToList();
        var actualStates = freshOptimizer.state_dict().State.Cast<SharpLM.Training.AdamW.State>().ToList();
        Assert.Equal(expectedStates.Count, actualStates.Count);
        foreach (var (expected, actual) in expectedStates.Zip(actualStates))
        {
            Assert.Equal(10, actual.Step);
            TensorAssert.Equal(expected.M, actual.M);
            TensorAssert.Equal(expected.V, actual.V);
        }
    }

    [Fact]
    public void Resume_TwentyPlusTwentySteps_IsBitIdenticalToFortyStraight()
    {
        var straight = Mlp(seed: 3);
        using var straightData = new Generator(4);
        Train(straight, Optimizer(straight), straightData, 40);

        var first = Mlp(seed: 3);
        var firstOptimizer = Optimizer(first);
        using var firstData = new Generator(4);
        Train(first, firstOptimizer, firstData, 20);
        string path = Path.Combine(directory, "resume.bin");
        Checkpoint.Save(first, firstOptimizer, 20, path, new CheckpointMetadata
        {
            RandomStates = new Dictionary<string, byte[]> { ["data"] = State(firstData) },
        });

        var second = Mlp(seed: 77);
        var secondOptimizer = Optimizer(second);
        long iteration = Checkpoint.Load(path, second, secondOptimizer, out var metadata);
        using var secondData = new Generator(123);
        secondData.set_state(tensor(metadata.RandomStates["data"]));
        Train(second, secondOptimizer, secondData, (int)(40 - iteration));

        foreach (var ((name, expected), (_, actual)) in straight.named_parameters().Zip(second.named_parameters()))
        {
            Assert.True(expected.eq(actual).all().item<bool>(), $"parameter {name} differs after resume");
        }
    }

    [Fact]
    public void Save_KeepsMetadata()
    {
        var model = Mlp(seed: 5);
        string path = Path.Combine(directory, "meta.bin");
        Checkpoint.Save(model, Optimizer(model), 7, path, new CheckpointMetadata
        {
            ModelConfig = "{\"dModel\":4}",
            Counters = new Dictionary<string, double> { ["tokensSeen"] = 1234 },
        });
        var metadata = Checkpoint.ReadMetadata(path);
        Assert.Equal(7, metadata.Iteration);
        Assert.Equal("{\"dModel\":4}", metadata.ModelConfig);
        Assert.Equal(1234, metadata.Counters["tokensSeen"]);
    }

    string SavedCheckpoint(out nn.Module<Tensor, Tensor> model)
    {
        model = Mlp(seed: 6);
        string path = Path.Combine(directory, "good.bin");
        Checkpoint.Save(model, Optimizer(model), 3, path);
        return path;
    }

    [Fact]
    public void Load_TruncatedFile_ThrowsSayingTruncated()
    {
        string path = SavedCheckpoint(out var model);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var exception = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path, model, Optimizer(model)));
        Assert.Contains("truncated", exception.Message, StringComparison.Ordinal);
        Assert.Contains(bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_FlippedByte_ThrowsSayingCorrupt()
    {
        string path = SavedCheckpoint(out var model);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
        var exception = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path, model, Optimizer(model)));
        Assert.Contains("corrupt", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ForeignFile_ThrowsNamingExpectedAndFoundMagic()
    {
        string path = Path.Combine(directory, "foreign.bin");
        File.WriteAllText(path, "PK\u0003\u0004 this is a zip, not a checkpoint");
        var model = Mlp(seed: 7);
        var exception = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path, model, Optimizer(model)));
        Assert.Contains("not a SharpLM checkpoint", exception.Message, StringComparison.Ordinal);
        Assert.Contains("504B0304", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_IntoDifferentlyShapedModel_ThrowsInvalidData()
    {
        string path = SavedCheckpoint(out _);
        var other = nn.Sequential(nn.Linear(100, 50), nn.ReLU(), nn.Linear(50, 10));
        Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path, other, Optimizer(other)));
    }

    [Fact]
    public void Save_FailingMidway_LeavesPreviousCheckpointLoadableAndNoTemporaryFile()
    {
        string path = SavedCheckpoint(out var model);
        var broken = Mlp(seed: 8);
        var brokenOptimizer = Optimizer(broken);
        broken.parameters().First().Dispose();
        Assert.ThrowsAny<Exception>(() => Checkpoint.Save(broken, brokenOptimizer, 99, path));

        Assert.Equal(3, Checkpoint.Load(path, model, Optimizer(model)));
        Assert.Equal(["good.bin"], Directory.GetFiles(directory).Select(Path.GetFileName));
    }

    [Fact]
    public void Load_MissingFile_ThrowsFileNotFound()
    {
        var model = Mlp(seed: 9);
        Assert.Throws<FileNotFoundException>(() => Checkpoint.Load(Path.Combine(directory, "none.bin"), model, Optimizer(model)));
    }
}
