using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SharpLM.Generation;
using SharpLM.Serving;
using static TorchSharp.torch;

namespace SharpLM.Bench.Suites;

/// <summary>
/// `sharplm serve`'s throughput: 1, 4 and 16 clients at once, each asking POST /v1/completions for 256 greedy tokens
/// (ignore_eos) after its own 64-token prompt, on the TinyStories-shape model with random weights, 1 libtorch
/// thread, up to 16 completions per decode step, after a 16-client warm-up. Total generated tokens ÷ wall time from
/// the first request to the last answer (prefills included), the median of 5 rounds. Target: 16 clients get at least
/// 4× the single client's total. Then the time to the first token of 4 completions of 256-token prompts, as one
/// request with n = 4 (whose choices share one prefill) and as 4 requests of different prompts.
/// </summary>
public static class ServingBenchmarks
{
    const int NewTokens = DecodeBenchmarks.NewTokens;
    const int Rounds = 5;

    public static void Run()
    {
        set_num_threads(1);
        string directory = Directory.CreateTempSubdirectory("sharplm-bench-serving-").FullName;
        try
        {
            var tokenizer = DecodeBenchmarks.TrainTokenizer(directory, 1000);
            var (name, config) = DecodeBenchmarks.Shapes(tokenizer.VocabularySize)[0];
            using var trained = new TrainedModel(DecodeBenchmarks.RandomModel(config), tokenizer, "random weights");
            var server = OpenAiServer.StartAsync(trained, new ServerOptions { Port = 0, MaxBatch = 16, ModelName = "bench" }).GetAwaiter().GetResult();
            try
            {
                using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(10) };
                // Warm-up at the largest load: the server then holds its peak memory (freed caches are kept for reuse),
                // as it does in steady service, and the first 16-client burst's page faults stay out of the figures.
                Clients(http, 16, config.VocabSize);
                // Rounds of 1, 4 and 16 clients in turn, so that the machine's drift reaches every count alike; a row
                // is the median of its rounds (one 256-token request alone lasts about half a second).
                int[] counts = [1, 4, 16];
                var rounds = counts.ToDictionary(clients => clients, _ => new List<double>());
                for (int round = 0; round < Rounds; round++)
                {
                    foreach (int clients in counts)
                    {
                        rounds[clients].Add(Clients(http, clients, config.VocabSize));
                    }
                }
                double single = Measurement.Median(rounds[1]);
                var rows = new List<string[]>();
                foreach (int clients in counts)
                {
                    double tokensPerSecond = Measurement.Median(rounds[clients]);
                    rows.Add([clients.ToString(CultureInfo.InvariantCulture), tokensPerSecond.ToString("0", CultureInfo.InvariantCulture),
                        string.Join(" / ", rounds[clients].Select(value => value.ToString("0", CultureInfo.InvariantCulture))),
                        $"{tokensPerSecond / single:0.00}×" + (clients == 16 ? $" ({(tokensPerSecond >= 4 * single ? "met" : "MISSED")} ≥ 4×)" : "")]);
                }
                Console.WriteLine($"{name}, random weights, vocabulary {tokenizer.VocabularySize}; each client: 64-token prompt, {NewTokens} greedy tokens; --max-batch 16, 1 thread; median of {Rounds} rounds.");
                Console.WriteLine();
                MarkdownTable.Print(Console.Out, ["concurrent clients", "generated tok/s (total), median", "rounds", "median ÷ 1 client's"], rows);
                // Choices of one prompt share its prefill: one request with n = 4 beside 4 requests of different prompts.
                var prefills = new[] { true, false }.ToDictionary(shared => shared, _ => new List<double>());
                for (int round = 0; round < Rounds; round++)
                {
                    foreach (bool shared in prefills.Keys)
                    {
                        prefills[shared].Add(FourFirstTokens(http, config.VocabSize, shared));
                    }
                }
                Console.WriteLine();
                Console.WriteLine($"Time to the first token of 4 completions of {LongPromptTokens}-token prompts (max_tokens 1), median of {Rounds} rounds:");
                Console.WriteLine();
                MarkdownTable.Print(Console.Out, ["requests", "ms, median", "rounds"], [.. prefills.Select(pair => new[]
                {
                    pair.Key ? "1 request, n = 4 (one prompt)" : "4 requests at once, different prompts",
                    Measurement.Median(pair.Value).ToString("0", CultureInfo.InvariantCulture),
                    string.Join(" / ", pair.Value.Select(value => value.ToString("0", CultureInfo.InvariantCulture))),
                })]);
            }
            finally
            {
                server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Total generated tokens per second of <paramref name="clients"/> simultaneous requests.</summary>
    static double Clients(HttpClient http, int clients, int vocabularySize)
    {
        var clock = Stopwatch.StartNew();
        var requests = Enumerable.Range(0, clients)
            .Select(client => Complete(http, [.. DecodeBenchmarks.RandomPrompt(vocabularySize).Select(id => (id + client) % vocabularySize)], 1, NewTokens))
            .ToArray();
        int generated = Task.WhenAll(requests).GetAwaiter().GetResult().Sum();
        return generated / clock.Elapsed.TotalSeconds;
    }

    const int LongPromptTokens = 4 * DecodeBenchmarks.PromptTokens;

    /// <summary>Milliseconds until 4 one-token completions of <see cref="LongPromptTokens"/>-token prompts have answered.</summary>
    static double FourFirstTokens(HttpClient http, int vocabularySize, bool shared)
    {
        int[] LongPrompt(int variant) => [.. Enumerable.Range(0, 4)
            .SelectMany(copy => DecodeBenchmarks.RandomPrompt(vocabularySize).Select(id => (id + 13 * copy + 101 * variant) % vocabularySize))];
        var clock = Stopwatch.StartNew();
        var requests = shared ? [Complete(http, LongPrompt(0), 4, 1)] : Enumerable.Range(0, 4).Select(variant => Complete(http, LongPrompt(variant), 1, 1)).ToArray();
        Task.WhenAll(requests).GetAwaiter().GetResult();
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>POST /v1/completions, greedy and ignoring the stop token; the completion tokens of all choices.</summary>
    static async Task<int> Complete(HttpClient http, int[] prompt, int choices, int maxTokens)
    {
        var body = new JsonObject
        {
            ["model"] = "bench",
            ["prompt"] = new JsonArray([.. prompt.Select(id => JsonValue.Create(id))]),
            ["n"] = choices,
            ["max_tokens"] = maxTokens,
            ["temperature"] = 0,
            ["ignore_eos"] = true,
        };
        using var response = await http.PostAsJsonAsync("v1/completions", body);
        response.EnsureSuccessStatusCode();
        var answer = await response.Content.ReadFromJsonAsync<JsonObject>();
        return (int)answer!["usage"]!["completion_tokens"]!;
    }
}
