using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpLM.Tests.Export;

/// <summary>Runs a peer's script (node, python) that reads one JSON request on stdin and prints one JSON answer.</summary>
internal static class PeerScript
{
    /// <param name="script">The script's path under the test output folder, e.g. Export/cs336_forward.py.</param>
    public static JsonNode Run(string program, string script, JsonObject request)
    {
        var start = new ProcessStartInfo(program, [Path.Combine(AppContext.BaseDirectory, script)])
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

    /// <summary>
    /// The node_modules folder of the repository's ignored .peers/ (where `.ci/run` installs the npm peers) if it
    /// holds <paramref name="package"/>, else null.
    /// </summary>
    public static string? NodeModulesWith(string package)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, ".peers", "node_modules");
            if (Directory.Exists(Path.Combine(candidate, package)))
            {
                return candidate;
            }
        }
        return null;
    }
}
