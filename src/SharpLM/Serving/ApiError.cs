using System.Text.Json.Nodes;

namespace SharpLM.Serving;

/// <summary>
/// A request the server refuses, answered with the HTTP status and OpenAI's error shape
/// <c>{"error": {"message", "type", "param", "code"}}</c>, which OpenAI's clients turn into typed exceptions.
/// </summary>
public sealed class ApiError(int status, string message, string? param = null, string? code = null, string type = "invalid_request_error")
    : Exception(message)
{
    public int Status { get; } = status;

    public string Type { get; } = type;

    public string? Param { get; } = param;

    public string? Code { get; } = code;

    public JsonObject ToJson() => new()
    {
        ["error"] = new JsonObject
        {
            ["message"] = Message,
            ["type"] = Type,
            ["param"] = Param,
            ["code"] = Code,
        },
    };

    public static ApiError BadRequest(string message, string? param = null, string? code = null) => new(400, message, param, code);
}
