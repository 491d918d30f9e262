using System.Text.Json;
using SharpLM.Generation;
using SharpLM.Tokenization;

namespace SharpLM.Serving;

/// <summary>
/// The body of <c>POST /v1/completions</c> (OpenAI's legacy completions API), validated: every bad field is an
/// <see cref="ApiError"/> naming it. Fields SharpLM does not implement (logprobs, echo, user, ...) are ignored, as
/// other OpenAI-compatible servers do; <c>ignore_eos</c> is vLLM's extension.
/// </summary>
public sealed record CompletionRequest(
    string Model,
    IReadOnlyList<int[]> Prompts,
    int Choices,
    bool Stream,
    bool IncludeUsage,
    long Seed,
    GenerationOptions Options)
{
    /// <summary>OpenAI's default for max_tokens on this endpoint.</summary>
    public const int DefaultMaxTokens = 16;

    /// <summary>Most samples per prompt, so one request cannot queue unbounded work.</summary>
    public const int MaxChoices = 128;

    /// <summary>OpenAI accepts up to 4 stop sequences.</summary>
    public const int MaxStopStrings = 4;

    /// <param name="body">The parsed JSON body.</param>
    /// <param name="tokenizer">Encodes string prompts and bounds token ids.</param>
    /// <param name="modelName">The one model served.</param>
    /// <param name="maxPromptTokens">Longest prompt accepted, in tokens.</param>
    /// <exception cref="ApiError">A field is missing, of the wrong type or out of range.</exception>
    public static CompletionRequest Parse(JsonElement body, Tokenizer tokenizer, string modelName, int maxPromptTokens)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw ApiError.BadRequest("the request body must be a JSON object.");
        }
        string model = Optional(body, "model") is { ValueKind: JsonValueKind.String } name
            ? name.GetString()!
            : throw ApiError.BadRequest("you must provide a model parameter (a string).", "model");
        if (model != modelName)
        {
            throw ApiError.BadRequest($"The model '{model}' does not exist; this server serves '{modelName}'.", "model", "model_not_found");
        }
        int? eos = tokenizer.SpecialTokenId("<|endoftext|>");
        var prompts = ParsePrompts(Optional(body, "prompt"), tokenizer, eos);
        if (prompts.FirstOrDefault(prompt => prompt.Length > maxPromptTokens) is { } longest)
        {
            throw ApiError.BadRequest(
                $"the prompt has {longest.Length} tokens, more than this server's limit of {maxPromptTokens}.", "prompt", "context_length_exceeded");
        }
        int maxTokens = Integer(body, "max_tokens", DefaultMaxTokens);
        if (maxTokens < 0)
        {
            throw ApiError.BadRequest($"max_tokens must be at least 0, got {maxTokens}.", "max_tokens");
        }
        double temperature = Number(body, "temperature", 1);
        if (!(temperature >= 0))
        {
            throw ApiError.BadRequest($"temperature must be at least 0, got {temperature}.", "temperature");
        }
        double topP = Number(body, "top_p", 1);
        if (!(topP > 0 && topP <= 1))
        {
            throw ApiError.BadRequest($"top_p must be in (0, 1], got {topP}.", "top_p");
        }
        int choices = Integer(body, "n", 1);
        if (choices < 1 || choices > MaxChoices)
        {
            throw ApiError.BadRequest($"n must be between 1 and {MaxChoices}, got {choices}.", "n");
        }
        long seed = Optional(body, "seed") is { } seedValue
            ? seedValue.ValueKind == JsonValueKind.Number && seedValue.TryGetInt64(out long given) ? given : throw ApiError.BadRequest("seed must be an integer.", "seed")
            : Random.Shared.NextInt64();
        bool includeUsage = Optional(body, "stream_options") is { ValueKind: JsonValueKind.Object } streamOptions && Boolean(streamOptions, "include_usage");
        return new CompletionRequest(model, prompts, choices, Boolean(body, "stream"), includeUsage, seed, new GenerationOptions
        {
            MaxTokens = maxTokens,
            Temperature = temperature,
            TopP = topP,
            StopStrings = ParseStopStrings(Optional(body, "stop")),
            IgnoreEos = Boolean(body, "ignore_eos"),
        });
    }

    /// <summary>A string, an array of strings, an array of token ids, or an array of such arrays (OpenAI's four forms).</summary>
    static List<int[]> ParsePrompts(JsonElement? prompt, Tokenizer tokenizer, int? eos)
    {
        // An empty prompt starts a new document, as after the separator in training data.
        int[] Encode(string text) => tokenizer.Encode(text) is { Length: > 0 } ids ? ids : [eos ?? 0];
        int[] Ids(JsonElement array)
        {
            var ids = array.EnumerateArray().Select(id => id.ValueKind == JsonValueKind.Number && id.TryGetInt32(out int value) && value >= 0 && value < tokenizer.VocabularySize
                ? value
                : throw ApiError.BadRequest($"prompt token {id} is not an id of the vocabulary (0 … {tokenizer.VocabularySize - 1}).", "prompt")).ToArray();
            return ids.Length > 0 ? ids : [eos ?? 0];
        }
        switch (prompt)
        {
            case null or { ValueKind: JsonValueKind.Null }:
                return [Encode("")];
            case { ValueKind: JsonValueKind.String } text:
                return [Encode(text.GetString()!)];
            case { ValueKind: JsonValueKind.Array } array when array.GetArrayLength() == 0:
                throw ApiError.BadRequest("prompt must not be an empty array.", "prompt");
            case { ValueKind: JsonValueKind.Array } array when array.EnumerateArray().All(item => item.ValueKind == JsonValueKind.Number):
                return [Ids(array)];
            case { ValueKind: JsonValueKind.Array } array:
                return [.. array.EnumerateArray().Select(item => item.ValueKind switch
                {
                    JsonValueKind.String => Encode(item.GetString()!),
                    JsonValueKind.Array => Ids(item),
                    _ => throw ApiError.BadRequest("prompt must be a string, an array of strings, or token ids.", "prompt"),
                })];
            default:
                throw ApiError.BadRequest("prompt must be a string, an array of strings, or token ids.", "prompt");
        }
    }

    static string[] ParseStopStrings(JsonElement? stop)
    {
        string[] stops = stop switch
        {
            null or { ValueKind: JsonValueKind.Null } => [],
            { ValueKind: JsonValueKind.String } text => [text.GetString()!],
            { ValueKind: JsonValueKind.Array } array when array.EnumerateArray().All(item => item.ValueKind == JsonValueKind.String) =>
                [.. array.EnumerateArray().Select(item => item.GetString()!)],
            _ => throw ApiError.BadRequest("stop must be a string or an array of strings.", "stop"),
        };
        if (stops.Length > MaxStopStrings || stops.Any(string.IsNullOrEmpty))
        {
            throw ApiError.BadRequest($"stop takes up to {MaxStopStrings} non-empty strings.", "stop");
        }
        return stops;
    }

    static JsonElement? Optional(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    static int Integer(JsonElement body, string name, int fallback) => Optional(body, name) switch
    {
        null => fallback,
        { ValueKind: JsonValueKind.Number } value when value.TryGetInt32(out int number) => number,
        _ => throw ApiError.BadRequest($"{name} must be an integer.", name),
    };

    static double Number(JsonElement body, string name, double fallback) => Optional(body, name) switch
    {
        null => fallback,
        { ValueKind: JsonValueKind.Number } value => value.GetDouble(),
        _ => throw ApiError.BadRequest($"{name} must be a number.", name),
    };

    static bool Boolean(JsonElement body, string name) => Optional(body, name) switch
    {
        null => false,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        _ => throw ApiError.BadRequest($"{name} must be true or false.", name),
    };
}
