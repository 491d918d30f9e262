using System.Text.Json;
using System.Text.Json.Nodes;
using SharpLM.Cli;
using SharpLM.Export;
using SharpLM.Generation;
using SharpLM.Model;
using SharpLM.Tests.Cli;
using SharpLM.Training;
using static TorchSharp.torch;

namespace SharpLM.Tests.Export;

/// <summary>`sharplm export --format pytorch|safetensors` and `sharplm import`, against real PyTorch.</summary>
[Collection(TrainedRunCollection.Name)]
public sealed class StateDictExportTests(TrainedRunFixture run)
{
    /// <summary>The architecture PyTorch initialises for the import direction; the vocabulary is the trained run's.</summary>
    static JsonObject PyTorchConfig(int vocabularySize) => new()
    {
        ["vocab_size"] = vocabularySize,
        ["context_length"] = 32,
        ["d_model"] = 16,
        ["num_layers"] = 2,
        ["num_heads"] = 2,
        ["d_ff"] = 32,
        ["rope_theta"] = 10000.0,
    };

    string Export(string format, string dtype) => run.File($"model-{dtype}.{(format == "pytorch" ? "pt" : "safetensors")}", path =>
    {
        var export = CliRun.Of("export", "--checkpoint", run.Run, "--format", format, "--dtype", dtype, "--out", path);
        Assert.True(export.ExitCode == ExitCodes.Success, export.Error);
    });

    double SharpLMLoss(string runOrCheckpoint)
    {
        var evaluate = CliRun.Of("evaluate", "--checkpoint", runOrCheckpoint, "--data", run.HeldOutText, "--json");
        Assert.True(evaluate.ExitCode == ExitCodes.Success, evaluate.Error);
        return JsonDocument.Parse(evaluate.Output).RootElement.GetProperty("loss").GetDouble();
    }

    /// <summary>PyTorch's loss of the held-out text under <paramref name="stateDict"/>, on the windows `sharplm evaluate` uses.</summary>
    JsonNode PyTorchLoss(string stateDict, JsonObject config)
    {
        using var trained = TrainedModel.Load(run.Run, null, CPU);
        int[] ids = trained.Tokenizer.Encode(File.ReadAllText(run.HeldOutText));
        int contextLength = config["context_length"]!.GetValue<int>();
        var windows = EvaluationWindows.Strided(ids.Length, contextLength, contextLength);
        return PythonTorch.Run(new JsonObject
        {
            ["mode"] = "loss",
            ["state_dict"] = stateDict,
            ["config"] = config,
            ["ids"] = new JsonArray([.. ids.Select(id => (JsonNode?)id)]),
            ["windows"] = new JsonArray([.. windows.Select(w => (JsonNode?)new JsonArray(w.Start, w.Length, w.FirstScored))]),
        });
    }

    JsonObject TrainedConfig()
    {
        using var trained = TrainedModel.Load(run.Run, null, CPU);
        return JsonNode.Parse(trained.Model.Config.ToJson())!.AsObject();
    }

    [PyTorchTheory]
    [InlineData("pytorch", "f32", "torch.float32", 1e-5)]
    [InlineData("safetensors", "f32", "torch.float32", 1e-5)]
    [InlineData("pytorch", "bf16", "torch.bfloat16", 5e-3)]
    [InlineData("safetensors", "f16", "torch.float16", 5e-4)]
    public void Export_PyTorchsPlainForward_GivesSharpLMEvaluatesLoss(string format, string dtype, string torchDType, double tolerance)
    {
        var answer = PyTorchLoss(Export(format, dtype), TrainedConfig());
        double expected = SharpLMLoss(run.Run);
        double difference = Math.Abs(answer["loss"]!.GetValue<double>() - expected);
        Assert.True(difference <= tolerance, $"{format} {dtype}: PyTorch {answer["loss"]}, sharplm evaluate {expected:F6}, difference {difference:E2}");
        Assert.All(answer["dtypes"]!.AsObject(), entry => Assert.Equal(torchDType, entry.Value!.GetValue<string>()));
    }

    /// <param name="architecture">Options of handout §7.3 and §7.5 as config keys, e.g. "norm=none,final_norm=false"; empty is the handout's model.</param>
    [PyTorchTheory]
    [InlineData("pt", "")]
    [InlineData("safetensors", "")]
    [InlineData("pt", "norm=post")]
    [InlineData("pt", "norm=none,final_norm=false")]
    [InlineData("pt", "position=nope")]
    [InlineData("pt", "ffn=silu")]
    [InlineData("pt", "tie_embeddings=true")]
    public void Import_AModelInitialisedAndSavedInPyTorch_EvaluatesAsPyTorchDoes(string extension, string architecture)
    {
        using var trained = TrainedModel.Load(run.Run, null, CPU);
        var config = PyTorchConfig(trained.Tokenizer.VocabularySize);
        foreach (string[] option in architecture.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(o => o.Split('=')))
        {
            config[option[0]] = option[1] is "true" or "false" ? JsonValue.Create(option[1] == "true") : JsonValue.Create(option[1]);
        }
        string name = $"{extension}-{architecture.Replace('=', '-').Replace(',', '-')}";
        string pt = Path.Combine(run.Directory, $"pytorch-init-{name}.pt");
        string safetensors = Path.Combine(run.Directory, $"pytorch-init-{name}.safetensors");
        PythonTorch.Run(new JsonObject { ["mode"] = "init", ["config"] = config.DeepClone(), ["seed"] = 3, ["pt"] = pt, ["safetensors"] = safetensors });
        string configPath = Path.Combine(run.Directory, $"pytorch-config-{name}.json");
        File.WriteAllText(configPath, config.ToJsonString());
        string imported = Path.Combine(run.Directory, $"imported-{name}");

        var import = CliRun.Of("import", "--state-dict", extension == "pt" ? pt : safetensors, "--model-config", configPath,
            "--tokenizer", Path.Combine(run.Run, "tokenizer"), "--out", imported);
        Assert.True(import.ExitCode == ExitCodes.Success, import.Error);

        double expected = PyTorchLoss(pt, config)["loss"]!.GetValue<double>();
        double ours = SharpLMLoss(imported);
        Assert.True(Math.Abs(ours - expected) <= 1e-5, $"sharplm evaluate {ours:F7}, PyTorch {expected:F7}, difference {Math.Abs(ours - expected):E2}");
    }

    [Fact]
    public void ExportSafetensors_ReadBack_EqualsTheWeightsAndCarriesTheConfig()
    {
        string path = Export("safetensors", "f32");
        using var trained = TrainedModel.Load(run.Run, null, CPU);
        var read = Safetensors.Read(path, out var metadata);
        try
        {
            var expected = trained.Model.state_dict();
            Assert.Equal(expected.Keys.Order(), read.Keys.Order());
            foreach (var (key, tensor) in expected)
            {
                Assert.True(tensor.eq(read[key]).all().item<bool>(), $"{key} differs");
            }
            Assert.Equal(trained.Model.Config, TransformerConfig.FromJson(metadata[StateDictImport.ModelConfigMetadataKey]));
        }
        finally
        {
            StateDicts.Dispose(read);
        }
    }

    [Theory]
    [InlineData("missing", "missing key layers.1.ffn.w2.weight")]
    [InlineData("unexpected", "unexpected key layers.9.ffn.w2.weight")]
    [InlineData("shape", "lm_head.weight has shape [3, 32], expected [400, 32]")]
    public void Import_WithAWrongKeyOrShape_FailsWithOneLineErrorNamingIt(string defect, string message)
    {
        using var trained = TrainedModel.Load(run.Run, null, CPU);
        Assert.Equal(400, trained.Model.Config.VocabSize);
        var weights = StateDicts.Export(trained.Model, ExportDType.F32);
        try
        {
            switch (defect)
            {
                case "missing":
                    weights.Remove("layers.1.ffn.w2.weight", out var removed);
                    removed!.Dispose();
                    break;
                case "unexpected":
                    weights["layers.9.ffn.w2.weight"] = zeros(2);
                    break;
                default:
                    weights["lm_head.weight"].Dispose();
                    weights["lm_head.weight"] = zeros(3, trained.Model.Config.DModel);
                    break;
            }
            string path = Path.Combine(run.Directory, $"defect-{defect}.safetensors");
            Safetensors.Write(path, weights, new Dictionary<string, string> { [StateDictImport.ModelConfigMetadataKey] = trained.Model.Config.ToJson() });
            CliRun.Of("import", "--state-dict", path, "--tokenizer", Path.Combine(run.Run, "tokenizer"), "--out", Path.Combine(run.Directory, $"defect-run-{defect}"))
                .AssertOneLineError(message);
        }
        finally
        {
            StateDicts.Dispose(weights);
        }
    }
}
