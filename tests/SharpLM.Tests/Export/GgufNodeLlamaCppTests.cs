using System.Text.Json;
using System.Text.Json.Nodes;
using SharpLM.Cli;
using SharpLM.Data;
using SharpLM.Export;
using SharpLM.Generation;
using SharpLM.Tests.Cli;
using SharpLM.Training;
using static TorchSharp.torch;

namespace SharpLM.Tests.Export;

/// <summary>The exported GGUF in a second llama.cpp build, node-llama-cpp's, run as a separate process.</summary>
[Collection(TrainedRunCollection.Name)]
public sealed class GgufNodeLlamaCppTests(TrainedRunFixture run)
{
    [NodeLlamaCppFact]
    public void NodeLlamaCpp_TokenizesRoundTripsAndScoresTheExportLikeSharpLM()
    {
        string gguf = run.File("model-node.gguf", path =>
        {
            var export = CliRun.Of("export", "--checkpoint", run.Run, "--format", "gguf", "--out", path);
            Assert.True(export.ExitCode == ExitCodes.Success, export.Error);
        });
        // Two stories (a few windows): node-llama-cpp's per-position probabilities take about a second per window.
        string heldOut = run.File("heldout-short.txt", path => StoryCorpus.Write(path, 2, 4));
        var evaluate = CliRun.Of("evaluate", "--checkpoint", run.Run, "--data", heldOut, "--json");
        Assert.True(evaluate.ExitCode == ExitCodes.Success, evaluate.Error);
        double expectedLoss = JsonDocument.Parse(evaluate.Output).RootElement.GetProperty("loss").GetDouble();

        using var trained = TrainedModel.Load(run.Run, null, CPU);
        int contextLength = trained.Model.Config.ContextLength;
        string[] texts = [.. GgufExportTests.EdgeCases(), File.ReadAllText(SharedData.Path("cs336", "tinystories_sample.txt"))];
        int[] ids = trained.Tokenizer.Encode(File.ReadAllText(heldOut));
        var windows = EvaluationWindows.Strided(ids.Length, contextLength, contextLength);
        var request = new JsonObject
        {
            ["model"] = gguf,
            ["contextSize"] = contextLength + 1, // node-llama-cpp needs one token more than it evaluates
            ["texts"] = new JsonArray([.. texts.Select(text => JsonValue.Create(text))]),
            ["windows"] = new JsonArray([.. windows.Select(window => new JsonArray([.. ids.Skip((int)window.Start).Take(window.Length + 1).Select(id => JsonValue.Create(id))]))]),
        };

        var result = NodeLlamaCpp.Run(request);
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(trained.Tokenizer.Encode(texts[i]), result["tokens"]![i]!.AsArray().Select(id => id!.GetValue<int>()));
            Assert.Equal(texts[i], result["detokenized"]![i]!.GetValue<string>());
        }
        double total = 0;
        for (int w = 0; w < windows.Count; w++)
        {
            var logProbabilities = result["logProbabilities"]![w]!.AsArray();
            for (int position = windows[w].FirstScored; position < windows[w].Length; position++)
            {
                total -= logProbabilities[position]!.GetValue<double>();
            }
        }
        double difference = Math.Abs(total / (ids.Length - 1) - expectedLoss);
        Assert.True(difference <= 1e-4, $"node-llama-cpp {total / (ids.Length - 1):F6}, sharplm evaluate {expectedLoss:F6}, difference {difference:E2}");
    }
}
