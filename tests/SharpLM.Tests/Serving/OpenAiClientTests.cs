using System.Text.Json.Nodes;
using SharpLM.Generation;
using SharpLM.Model;
using SharpLM.Serving;
using SharpLM.Tests.Export;
using SharpLM.Tokenization;
using static TorchSharp.torch;

namespace SharpLM.Tests.Serving;

/// <summary>
/// OpenAI's official JavaScript client (npm `openai`, installed by `.ci/run` into .peers/) against a server on a
/// loopback port, serving a randomly initialised model with a byte-level tokenizer; every text the client gets is
/// compared with SharpLM's own generator on the same model and settings.
/// </summary>
public sealed class OpenAiClientTests(OpenAiClientTests.Server server) : IClassFixture<OpenAiClientTests.Server>
{
    const string Prompt = "Once upon a time";

    public sealed class Server : IAsyncLifetime
    {
        public const string ApiKey = "test-key";
        public const string ModelName = "tiny";
        public const int MaxPromptTokens = 40;

        OpenAiServer? server;

        public TrainedModel Trained { get; } = RandomModel();

        public string BaseUrl => new Uri(server!.Address, "v1").ToString();

        static TrainedModel RandomModel()
        {
            using var generator = new Generator(21);
            var tokenizer = new Tokenizer(Enumerable.Range(0, 256).ToDictionary(id => id, id => new[] { (byte)id }), [], ["<|endoftext|>"]);
            var config = new TransformerConfig(VocabSize: tokenizer.VocabularySize, ContextLength: 32, DModel: 32, NumLayers: 2, NumHeads: 2, DFf: 64, RopeTheta: 10_000);
            return new TrainedModel(new TransformerLM(config, generator: generator), tokenizer, "random weights");
        }

        public async Task InitializeAsync() => server = await OpenAiServer.StartAsync(Trained, new ServerOptions
        {
            Port = 0,
            ApiKey = ApiKey,
            ModelName = ModelName,
            MaxPromptTokens = MaxPromptTokens,
        });

        public async Task DisposeAsync()
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
            Trained.Dispose();
        }
    }

    JsonNode Run(string scenario, JsonObject? fields = null)
    {
        var request = fields ?? [];
        request["scenario"] = scenario;
        request["nodeModules"] = OpenAiClient.NodeModules;
        request["baseURL"] = server.BaseUrl;
        request["apiKey"] = Server.ApiKey;
        request["model"] = Server.ModelName;
        request["prompt"] ??= Prompt;
        return PeerScript.Run("node", "Serving/openai-client-check.mjs", request);
    }

    GenerationResult Reference(GenerationOptions options) =>
        TextGenerator.Generate(server.Trained.Model, server.Trained.Tokenizer, Prompt, options);

    [OpenAiClientFact]
    public void Completion_Plain_ReturnsTheGreedyTextWithUsage_AndModelsListsTheModel()
    {
        var answer = Run("plain", new JsonObject { ["maxTokens"] = 12 });
        var model = answer["models"]!.AsArray().Single()!;
        Assert.Equal(Server.ModelName, (string?)model["id"]);
        Assert.Equal(32, (int?)model["config"]!["context_length"]);

        var expected = Reference(new GenerationOptions { MaxTokens = 12, Temperature = 0 });
        var completion = answer["completion"]!;
        var choice = completion["choices"]!.AsArray().Single()!;
        Assert.Equal("text_completion", (string?)completion["object"]);
        Assert.Equal(expected.Text, (string?)choice["text"]);
        Assert.Equal(expected.StoppedAtStopToken ? "stop" : "length", (string?)choice["finish_reason"]);
        Assert.Equal(Prompt.Length, (int?)completion["usage"]!["prompt_tokens"]); // one byte, one token
        Assert.Equal(expected.TokenIds.Count, (int?)completion["usage"]!["completion_tokens"]);
        Assert.Equal(Prompt.Length + expected.TokenIds.Count, (int?)completion["usage"]!["total_tokens"]);
    }

    [OpenAiClientFact]
    public void Completion_Streamed_ArrivesInPiecesThatMakeTheSeededText()
    {
        var answer = Run("streamed", new JsonObject { ["maxTokens"] = 20, ["seed"] = 5 });
        var expected = Reference(new GenerationOptions { MaxTokens = 20, Temperature = 1, Seed = 5 });
        var stream = answer["stream"]!;
        Assert.Equal(expected.Text, (string?)stream["text"]);
        Assert.Equal(expected.Text, (string?)answer["whole"]!["choices"]![0]!["text"]);
        Assert.True((int)stream["pieces"]! > 1, "a stream should come in several chunks");
        Assert.Equal(expected.StoppedAtStopToken ? "stop" : "length", (string?)stream["finish"]);
        Assert.Equal(expected.TokenIds.Count, (int?)stream["usage"]!["completion_tokens"]);
    }

    [OpenAiClientFact]
    public void Completion_WithSeveralChoices_GivesEachTheSampleOfItsSeed()
    {
        var answer = Run("choices", new JsonObject { ["maxTokens"] = 10, ["seed"] = 7 });
        var expected = TextGenerator.GenerateSamples(server.Trained.Model, server.Trained.Tokenizer, Prompt,
            new GenerationOptions { MaxTokens = 10, Temperature = 1, TopP = 0.9, Seed = 7 }, sampleCount: 3, batchSize: 3).Samples;
        var choices = answer["choices"]!.AsArray();
        Assert.Equal([0, 1, 2], choices.Select(choice => (int)choice!["index"]!));
        Assert.Equal(expected.Select(sample => sample.Text), choices.Select(choice => (string?)choice!["text"]));
        Assert.True(expected.Select(sample => sample.Text).Distinct().Count() > 1, "different seeds should give different texts");
    }

    [OpenAiClientFact]
    public void Completions_EightAtOnce_AreDecodedTogether_AndEachGetsItsOwnText()
    {
        int[] seeds = [.. Enumerable.Range(100, 8)];
        var answer = Run("concurrent", new JsonObject { ["maxTokens"] = 40, ["seeds"] = new JsonArray([.. seeds.Select(seed => JsonValue.Create(seed))]) });
        var expected = seeds.Select(seed => Reference(new GenerationOptions { MaxTokens = 40, Temperature = 1, Seed = seed, IgnoreEos = true }).Text);
        Assert.Equal(expected, answer["texts"]!.AsArray().Select(text => (string?)text));
        Assert.True((int)answer["busiest"]! > 1, $"requests should share decode steps, but at most {answer["busiest"]} ran at once");
    }

    [OpenAiClientFact]
    public void BadRequests_Get400WithOpenAisErrorShape_AndTheServerCarriesOn()
    {
        var answer = Run("rejections", new JsonObject { ["longPrompt"] = new string('x', Server.MaxPromptTokens + 1) });
        var malformed = answer["malformed"]!;
        Assert.Equal(400, (int?)malformed["status"]);
        Assert.Equal("invalid_request_error", (string?)malformed["body"]!["error"]!["type"]);
        Assert.Contains("parse the JSON body", (string?)malformed["body"]!["error"]!["message"], StringComparison.Ordinal);
        foreach (var (name, param) in new[]
        {
            ("unknownModel", "model"), ("negativeMaxTokens", "max_tokens"), ("negativeTemperature", "temperature"),
            ("zeroTopP", "top_p"), ("largeTopP", "top_p"), ("longPrompt", "prompt"),
        })
        {
            var rejection = answer[name]!;
            Assert.True((int?)rejection["status"] == 400, $"{name}: {rejection.ToJsonString()}");
            Assert.Equal("BadRequestError", (string?)rejection["kind"]);
            Assert.Equal("invalid_request_error", (string?)rejection["type"]);
            Assert.Equal(param, (string?)rejection["param"]);
        }
        Assert.Equal("model_not_found", (string?)answer["unknownModel"]!["code"]);
        Assert.Equal(1, (int?)answer["afterwards"]);
    }

    [OpenAiClientFact]
    public void Stream_WhenTheClientDisconnects_StopsItsGeneration()
    {
        var answer = Run("disconnect");
        Assert.Equal(3, (int?)answer["received"]);
        Assert.Equal(0, (int?)answer["after"]!["running"]);
        Assert.Equal(0, (int?)answer["after"]!["waiting"]);
        // 100,000 tokens would take minutes; the server must drop the completion as soon as the connection closes.
        Assert.True((int)answer["stoppedWithinMs"]! < 5000, $"generation went on for {answer["stoppedWithinMs"]} ms after the disconnect");
    }

    [OpenAiClientFact]
    public void Requests_WithoutTheRightKey_Get401()
    {
        var answer = Run("keys");
        Assert.Equal(401, (int?)answer["wrongKey"]!["status"]);
        Assert.Equal("AuthenticationError", (string?)answer["wrongKey"]!["kind"]);
        Assert.Equal("invalid_api_key", (string?)answer["wrongKey"]!["code"]);
        Assert.Equal(401, (int?)answer["missing"]!["status"]);
        Assert.Equal("invalid_api_key", (string?)answer["missing"]!["body"]!["error"]!["code"]);
        Assert.Equal(1, (int?)answer["right"]);
    }
}

/// <summary>npm `openai`@6.49.0 in .peers/node_modules (`.ci/run` installs it beside node-llama-cpp).</summary>
public static class OpenAiClient
{
    public static string? NodeModules { get; } = PeerScript.NodeModulesWith("openai");
}

/// <summary>A fact that needs node and the `openai` package in .peers/ (CI installs both); skipped with the reason elsewhere.</summary>
public sealed class OpenAiClientFactAttribute : FactAttribute
{
    public OpenAiClientFactAttribute()
    {
        if (OpenAiClient.NodeModules is null)
        {
            Skip = "needs the openai npm package in .peers/node_modules (bash .ci/run installs it)";
        }
    }
}
