using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpLM.Tests.Export;

/// <summary>Runs a peer's script (node, python) that reads one JSON request on stdin and prints one JSON answer.</summary>
internal static class PeerScript
{
    public static JsonNode Run(string program, string script, JsonObject request)
    {
        var start = new ProcessStartInfo(program, [Path.Combine(AppContext.BaseDirectory, "Export", script)])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(request.ToJsonString());
        process.StandardInput.Close();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} {script} exited with {process.ExitCode}: {error.Result}");
        return JsonNode.Parse(output) ?? throw new JsonException($"{program} {script} printed nothing");
    }
}
