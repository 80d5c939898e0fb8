using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;

using Dovecote.Bench.Shared;

namespace Dovecote.Bench;

/// <summary>A webhook endpoint that answers 200 at once and records every delivery's message text and webhook id.</summary>
internal sealed class HookRecorder : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, List<string>> _byMessage = new(StringComparer.Ordinal);
    private long _total;

    private HookRecorder(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";
    public long Total => Interlocked.Read(ref _total);

    public static async Task<HookRecorder> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var recorder = new HookRecorder(builder.Build());
        recorder._app.MapPost("/hook/{id}", async (HttpRequest request) =>
        {
            using var body = await JsonDocument.ParseAsync(request.Body);
            var message = body.RootElement.GetProperty("data").GetProperty("message").GetString() ?? "";
            var webhookId = request.Headers["webhook-id"].ToString();
            var ids = recorder._byMessage.GetOrAdd(message, _ => []);
            lock (ids) ids.Add(webhookId);
            Interlocked.Increment(ref recorder._total);
            return Results.Ok();
        });
        await recorder._app.StartAsync();
        recorder.Url = recorder._app.Urls.First();
        return recorder;
    }

    public bool Has(string message) => _byMessage.ContainsKey(message);

    /// <summary>The webhook ids this message arrived with, one per delivery (a copy).</summary>
    public IReadOnlyList<string> Deliveries(string message)
    {
        if (!_byMessage.TryGetValue(message, out var ids)) return [];
        lock (ids) return [.. ids];
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
