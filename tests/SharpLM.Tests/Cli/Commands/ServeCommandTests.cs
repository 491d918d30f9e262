using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using SharpLM.Cli;

namespace SharpLM.Tests.Cli.Commands;

/// <summary>`sharplm serve` as a real process: what a user sees when starting it, and Ctrl+C during a request.</summary>
[Collection(TrainedRunCollection.Name)]
public sealed partial class ServeCommandTests(TrainedRunFixture run)
{
    static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "SharpLM.Cli");

    const int SignalInterrupt = 2;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int processId, int signal);

    [Fact]
    public async Task CtrlC_DuringAStream_FinishesItThenRefusesConnectionsAndExits()
    {
        // env resets SIGINT to its default action: a shell starting the tests in the background would have it ignored.
        var start = new ProcessStartInfo("env", ["--default-signal=INT", Cli, "serve", "--checkpoint", run.Run, "--port", "0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var server = Process.Start(start)!;
        var errors = server.StandardError.ReadToEndAsync();
        try
        {
            string banner = await server.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException($"serve printed nothing: {await errors}");
            var address = new Uri(banner.Split(" on ")[1].Split(' ')[0]);
            Assert.Equal("127.0.0.1", address.Host);
            using var http = new HttpClient { BaseAddress = address };
            string body = """{"model": "run", "prompt": "Once upon a time", "max_tokens": 300, "ignore_eos": true, "stream": true}""";
            using var response = await http.PostAsync("v1/completions", new StringContent(body, Encoding.UTF8, "application/json"), CancellationToken.None);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            var events = new List<string>();
            while (events.Count == 0 && await reader.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    events.Add(line);
                }
            }
            Assert.Equal(0, Kill(server.Id, SignalInterrupt));
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    events.Add(line);
                }
            }
            Assert.Equal("data: [DONE]", events[^1]);
            Assert.Contains("\"finish_reason\":\"length\"", events[^2], StringComparison.Ordinal);
            Assert.True(events.Count > 100, $"the stream should have gone on after Ctrl+C, it had {events.Count} events");
            Assert.True(server.WaitForExit(TimeSpan.FromSeconds(30)), "serve should exit once the stream is done");
            Assert.Equal(ExitCodes.Success, server.ExitCode);
            Assert.Contains("stopping: finishing the requests in flight", await errors, StringComparison.Ordinal);
            await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync("health"));
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill();
            }
        }
    }

    [Fact]
    public void Serve_OnABadHost_IsAOneLineError()
    {
        var result = CliRun.Of("serve", "--checkpoint", run.Run, "--host", "not-an-address", "--port", "0");
        result.AssertOneLineError("--host must be an IP address or localhost");
    }
}
