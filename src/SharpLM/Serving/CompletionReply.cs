using System.Text;
using System.Text.Json.Nodes;
using SharpLM.Generation;

namespace SharpLM.Serving;

/// <summary>The response of one completions request, whole or as stream chunks, in OpenAI's <c>text_completion</c> shape.</summary>
internal sealed class CompletionReply(string model, long created, int choiceCount, int promptTokens)
{
    readonly string id = $"cmpl-{Guid.NewGuid():N}";
    readonly StringBuilder[] texts = [.. Enumerable.Range(0, choiceCount).Select(_ => new StringBuilder())];
    readonly FinishReason?[] finishes = new FinishReason?[choiceCount];
    readonly int[] tokens = new int[choiceCount];

    public void Add(CompletionEvent update)
    {
        texts[update.Choice].Append(update.Text);
        finishes[update.Choice] = update.Finish ?? finishes[update.Choice];
        tokens[update.Choice] = update.CompletionTokens;
    }

    public JsonObject Whole() => Envelope(
        [.. Enumerable.Range(0, choiceCount).Select(choice => Choice(choice, texts[choice].ToString(), finishes[choice]))], Usage());

    public JsonObject Chunk(CompletionEvent update) => Envelope([Choice(update.Choice, update.Text, update.Finish)], null);

    public JsonObject UsageChunk() => Envelope([], Usage());

    JsonObject Envelope(JsonArray choices, JsonObject? usage) => new()
    {
        ["id"] = id,
        ["object"] = "text_completion",
        ["created"] = created,
        ["model"] = model,
        ["choices"] = choices,
        ["usage"] = usage,
    };

    static JsonObject Choice(int index, string text, FinishReason? finish) => new()
    {
        ["text"] = text,
        ["index"] = index,
        ["logprobs"] = null,
        ["finish_reason"] = finish switch
        {
            FinishReason.Stop => "stop",
            FinishReason.Length => "length",
            _ => null,
        },
    };

    JsonObject Usage() => new()
    {
        ["prompt_tokens"] = promptTokens,
        ["completion_tokens"] = tokens.Sum(),
        ["total_tokens"] = promptTokens + tokens.Sum(),
    };
}
