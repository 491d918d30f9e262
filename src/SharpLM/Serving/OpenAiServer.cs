using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SharpLM.Generation;

namespace SharpLM.Serving;

/// <summary>
/// An HTTP server speaking OpenAI's completions API (<c>POST /v1/completions</c>, <c>GET /v1/models</c>) plus
/// <c>GET /health</c>, so OpenAI's clients work against it unchanged. Requests are decoded together by one
/// <see cref="CompletionScheduler"/>; a client that disconnects stops its generation; <see cref="StopAsync"/> refuses
/// new connections and lets the requests in flight finish.
/// </summary>
public sealed class OpenAiServer : IAsyncDisposable
{
    readonly WebApplication app;
    readonly TrainedModel trained;
    readonly ServerOptions options;
    readonly CompletionScheduler scheduler;
    readonly long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    bool stopped;

    OpenAiServer(WebApplication app, TrainedModel trained, ServerOptions options)
    {
        this.app = app;
        this.trained = trained;
        this.options = options;
        scheduler = new CompletionScheduler(trained.Model, options.Precision, options.MaxBatch);
        app.Use(Errors);
        app.Use(Authorize);
        app.MapGet("/health", () => Results.Json(new JsonObject
        {
            ["status"] = "ok",
            ["running"] = scheduler.Running,
            ["waiting"] = scheduler.Waiting,
            ["largest_batch"] = scheduler.LargestBatch,
        }));
        app.MapGet("/v1/models", () => Results.Json(new JsonObject { ["object"] = "list", ["data"] = new JsonArray(ModelCard()) }));
        app.MapGet("/v1/models/{id}", (string id) => id == options.ModelName
            ? Results.Json(ModelCard())
            : throw new ApiError(404, $"The model '{id}' does not exist.", "model", "model_not_found"));
        app.MapPost("/v1/completions", Completions);
        app.MapFallback((HttpContext context) =>
            throw new ApiError(404, $"Invalid URL ({context.Request.Method} {context.Request.Path})."));
    }

    /// <summary>Where the server listens, e.g. http://127.0.0.1:8000 (with the port chosen when 0 was asked).</summary>
    public Uri Address => new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    /// <summary>Starts listening; the server does not own <paramref name="trained"/>.</summary>
    /// <exception cref="IOException">The address is in use or cannot be bound.</exception>
    public static async Task<OpenAiServer> StartAsync(TrainedModel trained, ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(trained);
        ArgumentNullException.ThrowIfNull(options);
        if (!IPAddress.TryParse(options.Host, out var address) && options.Host != "localhost")
        {
            throw new ArgumentException($"--host must be an IP address or localhost, got '{options.Host}'.", nameof(options));
        }
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.DrainTimeout);
        // The caller decides when to stop (Ctrl+C reaches it through the CLI), not the host's console handler.
        builder.Services.AddSingleton<IHostLifetime, CallerLifetime>();
        builder.WebHost.UseKestrel(kestrel =>
        {
            if (address is null)
            {
                kestrel.ListenLocalhost(options.Port);
            }
            else
            {
                kestrel.Listen(address, options.Port);
            }
        });
        var server = new OpenAiServer(builder.Build(), trained, options);
        try
        {
            await server.app.StartAsync().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not IOException)
        {
            server.scheduler.Dispose();
            throw new IOException($"cannot listen on {options.Host}:{options.Port}: {exception.Message}", exception);
        }
        return server;
    }

    /// <summary>Refuses new connections, waits for the requests in flight (up to the drain timeout), then stops decoding.</summary>
    public async Task StopAsync()
    {
        if (stopped)
        {
            return;
        }
        stopped = true;
        await app.StopAsync().ConfigureAwait(false);
        scheduler.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
    }

    JsonObject ModelCard() => new()
    {
        ["id"] = options.ModelName,
        ["object"] = "model",
        ["created"] = created,
        ["owned_by"] = "sharplm",
        ["config"] = JsonNode.Parse(trained.Model.Config.ToJson()),
        ["checkpoint"] = trained.CheckpointPath,
    };

    async Task Completions(HttpContext context)
    {
        CompletionRequest request;
        try
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
            request = CompletionRequest.Parse(body.RootElement, trained.Tokenizer, options.ModelName, options.MaxPromptTokens ?? trained.Model.Config.ContextLength);
        }
        catch (JsonException exception)
        {
            throw ApiError.BadRequest($"We could not parse the JSON body of your request: {exception.Message}");
        }
        var completions = new List<Completion>();
        for (int prompt = 0; prompt < request.Prompts.Count; prompt++)
        {
            for (int sample = 0; sample < request.Choices; sample++)
            {
                int choice = completions.Count;
                completions.Add(new Completion(new DecodingSequence(trained.Model.Config, request.Prompts[prompt]), trained.Tokenizer, request.Options, request.Seed + choice));
            }
        }
        ChannelReader<CompletionEvent> updates;
        try
        {
            updates = scheduler.Submit(completions, context.RequestAborted);
        }
        catch (InvalidOperationException exception)
        {
            throw new ApiError(503, exception.Message, type: "server_error");
        }
        var reply = new CompletionReply(options.ModelName, created: DateTimeOffset.UtcNow.ToUnixTimeSeconds(), completions.Count, request.Prompts.Sum(prompt => prompt.Length));
        if (request.Stream)
        {
            await Stream(context, updates, reply, request.IncludeUsage).ConfigureAwait(false);
        }
        else
        {
            await foreach (var update in updates.ReadAllAsync(context.RequestAborted).ConfigureAwait(false))
            {
                reply.Add(update);
            }
            await context.Response.WriteAsJsonAsync(reply.Whole(), context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>Server-sent events: one chunk per piece of text, a last one per choice with its finish_reason, then [DONE].</summary>
    static async Task Stream(HttpContext context, ChannelReader<CompletionEvent> updates, CompletionReply reply, bool includeUsage)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        await response.StartAsync(context.RequestAborted).ConfigureAwait(false);
        async Task Send(string data)
        {
            await response.WriteAsync($"data: {data}\n\n", Encoding.UTF8, context.RequestAborted).ConfigureAwait(false);
            await response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        }
        try
        {
            await foreach (var update in updates.ReadAllAsync(context.RequestAborted).ConfigureAwait(false))
            {
                reply.Add(update);
                await Send(reply.Chunk(update).ToJsonString()).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Headers are gone already: the error travels as an event, as OpenAI's streams report one.
            await Send(new ApiError(500, exception.Message, type: "server_error").ToJson().ToJsonString()).ConfigureAwait(false);
        }
        if (includeUsage)
        {
            await Send(reply.UsageChunk().ToJsonString()).ConfigureAwait(false);
        }
        await Send("[DONE]").ConfigureAwait(false);
    }

    async Task Authorize(HttpContext context, RequestDelegate next)
    {
        if (options.ApiKey is { } key)
        {
            string given = context.Request.Headers.Authorization.ToString();
            byte[] expected = Encoding.UTF8.GetBytes("Bearer " + key);
            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), expected))
            {
                throw new ApiError(401, given.Length == 0
                    ? "You didn't provide an API key: pass it as 'Authorization: Bearer <key>'."
                    : "Incorrect API key provided.", code: "invalid_api_key");
            }
        }
        await next(context).ConfigureAwait(false);
    }

    static async Task Errors(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is no one to answer.
        }
        catch (Exception exception) when (!context.Response.HasStarted)
        {
            var error = exception switch
            {
                ApiError api => api,
                BadHttpRequestException bad => new ApiError(bad.StatusCode, bad.Message),
                _ => new ApiError(500, $"The server had an error while processing your request: {exception.Message}", type: "server_error"),
            };
            context.Response.StatusCode = error.Status;
            await context.Response.WriteAsJsonAsync(error.ToJson()).ConfigureAwait(false);
        }
    }

    /// <summary>Host lifetime that leaves stopping to whoever started the server.</summary>
    sealed class CallerLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
