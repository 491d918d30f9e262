using System.Text.Json.Nodes;

namespace SharpLM.Tests.Export;

/// <summary>
/// node-llama-cpp@3.21.1, llama.cpp's prebuilt library behind a JavaScript API that many apps use. `.ci/run` installs it
/// into the repository's ignored folder .peers/ (npm i -E --prefix .peers node-llama-cpp@3.21.1, then its postinstall).
/// </summary>
public static class NodeLlamaCpp
{
    public static string? NodeModules { get; } = PeerScript.NodeModulesWith("node-llama-cpp");

    /// <summary>Runs Export/node-llama-cpp-check.mjs on <paramref name="request"/> (see the script for its fields).</summary>
    public static JsonNode Run(JsonObject request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request["nodeModules"] = NodeModules ?? throw new InvalidOperationException("node-llama-cpp is not installed");
        return PeerScript.Run("node", "Export/node-llama-cpp-check.mjs", request);
    }
}

/// <summary>A fact that needs node and node-llama-cpp in .peers/ (CI installs both); skipped with the reason elsewhere.</summary>
public sealed class NodeLlamaCppFactAttribute : FactAttribute
{
    public NodeLlamaCppFactAttribute()
    {
        if (NodeLlamaCpp.NodeModules is null)
        {
            Skip = "needs node-llama-cpp in .peers/node_modules (bash .ci/run installs it)";
        }
        else if (SharedData.Directory is null)
        {
            Skip = "needs ../shared/data beside the repository (CI provides it)";
        }
    }
}
