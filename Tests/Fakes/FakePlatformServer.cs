using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dovecote.Tests.Fakes;

/// <summary>One HTTP request as the fake received it, with the status code it was answered with
/// (499 when the client went away before an answer was sent).</summary>
public sealed record RecordedRequest(
    DateTimeOffset ReceivedAt,
    string Method,
    string Path,
    string QueryString,
    IReadOnlyDictionary<string, string> Headers,
    string Body,
    int StatusCode);

/// <summary>A canned answer that replaces the fake's normal handling of one platform request.
/// An empty <paramref name="Body"/> sends no body; <paramref name="Delay"/> holds the answer back
/// (for client-timeout tests) and is cut short when the client disconnects or the fake is disposed.
/// <paramref name="PadBodyTo"/>, when larger than the body, pads it with spaces to that many bytes (declared in
/// Content-Length, so still valid JSON or text) and streams it in pieces; how far the fake got before the
/// client hung up is recorded in <see cref="FakePlatformServer.StreamedBodies"/>.</summary>
public sealed record ScriptedResponse(
    int StatusCode,
    string Body,
    string ContentType = "application/json",
    IReadOnlyDictionary<string, string>? Headers = null,
    TimeSpan Delay = default,
    long PadBodyTo = 0);

/// <summary>How much of a padded body the fake wrote: <paramref name="Completed"/> is false when the client
/// closed the connection before the last byte was handed to the server. (Kestrel and the kernel buffer a few
/// MB between the fake and a client that stopped reading, so only a body well beyond that tells.)</summary>
public sealed record StreamedBody(string Path, long Declared, long Written, bool Completed);

/// <summary>
/// Base of the outside-platform fakes: a real Kestrel server on 127.0.0.1 (random port) that records
/// every request, can be scripted or taken down, and lets tests wait on conditions instead of sleeping.
/// Derived fakes only map their routes and implement the platform's rules.
/// </summary>
public abstract class FakePlatformServer : IAsyncDisposable
{
    /// <summary>nginx's "client closed request": recorded when the client aborted before the answer.</summary>
    public const int ClientClosedRequest = 499;

    private static readonly TimeSpan DefaultWaitTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RecheckInterval = TimeSpan.FromMilliseconds(50);
    private static readonly object RawBodyKey = new();
    private static readonly object AbortedKey = new();
    private static readonly object ReceivedAtKey = new();

    private readonly Lock _gate = new();
    private readonly List<RecordedRequest> _requests = [];
    private readonly List<StreamedBody> _streamed = [];
    private readonly Queue<ScriptedResponse> _script = new();
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource _recorded = NewSignal();
    private WebApplication? _app;
    private string? _baseUrl;
    private volatile bool _down;
    private int _started;
    private int _disposed;

    /// <summary>"http://127.0.0.1:{port}", no trailing slash. Available after <see cref="StartAsync"/>.</summary>
    public string BaseUrl => _baseUrl ?? throw new InvalidOperationException($"{GetType().Name} is not started; call StartAsync first.");

    /// <summary>While true every platform request is answered with the platform's "unavailable" response.</summary>
    public bool Down
    {
        get => _down;
        set => _down = value;
    }

    /// <summary>Snapshot of every request received so far, including rejected and scripted ones.</summary>
    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return _requests.ToArray();
            }
        }
    }

    /// <summary>Snapshot of the padded bodies (<see cref="ScriptedResponse.PadBodyTo"/>) written so far.</summary>
    public IReadOnlyList<StreamedBody> StreamedBodies
    {
        get
        {
            lock (_gate)
            {
                return _streamed.ToArray();
            }
        }
    }

    /// <summary>What a platform request gets while <see cref="Down"/> is true.</summary>
    protected abstract ScriptedResponse DownResponse { get; }

    /// <summary>Registers the fake's routes, using <see cref="MapPlatform"/> for platform endpoints.</summary>
    protected abstract void MapRoutes(IEndpointRouteBuilder routes);

    public async Task StartAsync()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException($"{GetType().Name} is already started.");
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = GetType().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);

        var app = builder.Build();
        // Loopback, port chosen by the OS. Given as the app's only URL (rather than Kestrel Listen options)
        // so ASPNETCORE_URLS / ASPNETCORE_HTTP_PORTS in the environment are ignored without a warning.
        app.Urls.Add("http://127.0.0.1:0");
        app.Use(RecordAsync);
        MapRoutes(app);
        _app = app;

        await app.StartAsync().ConfigureAwait(false);

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        var port = new Uri(address).Port;
        _baseUrl = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}");
    }

    /// <summary>Queues canned answers; each platform request takes the next one instead of normal handling.
    /// A request while <see cref="Down"/> is true does not consume one.</summary>
    public void Script(params ScriptedResponse[] responses)
    {
        ArgumentNullException.ThrowIfNull(responses);
        lock (_gate)
        {
            foreach (var response in responses)
            {
                _script.Enqueue(response);
            }
        }
    }

    /// <summary>How many scripted answers have not been used yet.</summary>
    public int PendingScriptedResponses
    {
        get
        {
            lock (_gate)
            {
                return _script.Count;
            }
        }
    }

    /// <summary>
    /// Completes as soon as <paramref name="condition"/> holds. It is re-evaluated whenever a request is
    /// recorded and every 50 ms as a fallback. On timeout (default 30 s) throws a <see cref="TimeoutException"/>
    /// that says <paramref name="because"/> and summarises what the fake received.
    /// </summary>
    public async Task WaitUntilAsync(Func<bool> condition, TimeSpan? timeout = null, string? because = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var limit = timeout ?? DefaultWaitTimeout;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            // Take the signal before evaluating so a request recorded in between still wakes us.
            var recorded = Volatile.Read(ref _recorded).Task;
            if (condition())
            {
                return;
            }

            var remaining = limit - clock.Elapsed;
            if (remaining <= TimeSpan.Zero)
            {
                throw new TimeoutException(DescribeTimeout(limit, because));
            }

            await Task.WhenAny(recorded, Task.Delay(remaining < RecheckInterval ? remaining : RecheckInterval)).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Cut scripted delays short first, so graceful shutdown has nothing to wait for.
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_app is not null)
        {
            using var shutdown = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _app.StopAsync(shutdown.Token).ConfigureAwait(false);
            }
            finally
            {
                await _app.DisposeAsync().ConfigureAwait(false);
            }
        }

        _stopping.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Maps a platform endpoint: while <see cref="Down"/> it answers <see cref="DownResponse"/>,
    /// else it takes the next scripted answer if any, else it calls <paramref name="handler"/>.</summary>
    protected void MapPlatform(IEndpointRouteBuilder routes, string pattern, string[] methods, Func<PlatformRequest, ScriptedResponse> handler)
    {
        ArgumentNullException.ThrowIfNull(routes);
        ArgumentNullException.ThrowIfNull(handler);
        routes.MapMethods(pattern, methods, context =>
        {
            ScriptedResponse response;
            if (_down)
            {
                response = DownResponse;
            }
            else if (TryTakeScripted(out var scripted))
            {
                response = scripted;
            }
            else
            {
                response = handler(new PlatformRequest(context, GetRawBody(context)));
            }

            return WriteAsync(context, response);
        });
    }

    /// <summary>Answers every request that matched no route (not a platform endpoint: never scripted or down).</summary>
    protected static void MapUnknown(IEndpointRouteBuilder routes, Func<PlatformRequest, ScriptedResponse> handler)
    {
        ArgumentNullException.ThrowIfNull(routes);
        ArgumentNullException.ThrowIfNull(handler);
        routes.MapFallback(context => WriteCoreAsync(context, handler(new PlatformRequest(context, GetRawBody(context)))));
    }

    protected static Dictionary<string, string> HeaderMap(params (string Name, string Value)[] headers)
    {
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in headers)
        {
            map[name] = value;
        }

        return map;
    }

    /// <summary>The request as a platform handler sees it: the raw body is already read and recorded.</summary>
    protected sealed class PlatformRequest(HttpContext context, byte[] rawBody)
    {
        public HttpContext Context { get; } = context;

        public byte[] RawBody { get; } = rawBody;

        public string Body => Encoding.UTF8.GetString(RawBody);

        public string RouteValue(string name) => Context.Request.RouteValues[name]?.ToString() ?? string.Empty;

        public string? Query(string name) => Context.Request.Query.TryGetValue(name, out var value) ? value.ToString() : null;

        public string? ContentType => Context.Request.ContentType;

        public DateTimeOffset ReceivedAt => (DateTimeOffset)Context.Items[ReceivedAtKey]!;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static byte[] GetRawBody(HttpContext context) => context.Items[RawBodyKey] as byte[] ?? [];

    private static bool IsAborted(HttpContext context) =>
        context.RequestAborted.IsCancellationRequested || context.Items.ContainsKey(AbortedKey);

    private bool TryTakeScripted(out ScriptedResponse response)
    {
        lock (_gate)
        {
            return _script.TryDequeue(out response!);
        }
    }

    private async Task WriteAsync(HttpContext context, ScriptedResponse response)
    {
        if (response.Delay > TimeSpan.Zero)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            try
            {
                await Task.Delay(response.Delay, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The client gave up or the fake is shutting down: drop the connection, answer nothing.
                context.Items[AbortedKey] = true;
                context.Abort();
                return;
            }
        }

        if (response.PadBodyTo > Encoding.UTF8.GetByteCount(response.Body))
        {
            await WritePaddedAsync(context, response).ConfigureAwait(false);
            return;
        }

        await WriteCoreAsync(context, response).ConfigureAwait(false);
    }

    private async Task WritePaddedAsync(HttpContext context, ScriptedResponse response)
    {
        context.Response.StatusCode = response.StatusCode;
        foreach (var (name, value) in response.Headers ?? new Dictionary<string, string>())
        {
            context.Response.Headers[name] = value;
        }

        if (!string.IsNullOrEmpty(response.ContentType))
        {
            context.Response.ContentType = response.ContentType;
        }

        context.Response.ContentLength = response.PadBodyTo;
        var head = Encoding.UTF8.GetBytes(response.Body);
        var padding = new byte[64 * 1024];
        padding.AsSpan().Fill((byte)' ');
        long written = 0;
        var hungUp = false;
        try
        {
            // BodyWriter, not Body: once the connection is gone Kestrel completes writes as no-ops, and only the
            // FlushResult says so (IsCompleted), possibly before RequestAborted is signalled.
            var result = await context.Response.BodyWriter.WriteAsync(head, context.RequestAborted).ConfigureAwait(false);
            written = head.Length;
            while (written < response.PadBodyTo && !result.IsCompleted && !context.RequestAborted.IsCancellationRequested)
            {
                var piece = (int)Math.Min(padding.Length, response.PadBodyTo - written);
                result = await context.Response.BodyWriter.WriteAsync(padding.AsMemory(0, piece), context.RequestAborted).ConfigureAwait(false);
                written += piece;
            }

            hungUp = result.IsCompleted || context.RequestAborted.IsCancellationRequested;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            hungUp = true;
        }

        var completed = written == response.PadBodyTo && !hungUp;
        lock (_gate)
        {
            _streamed.Add(new StreamedBody(context.Request.Path.Value ?? string.Empty, response.PadBodyTo, written, completed));
        }

        Interlocked.Exchange(ref _recorded, NewSignal()).TrySetResult();
    }

    private static async Task WriteCoreAsync(HttpContext context, ScriptedResponse response)
    {
        context.Response.StatusCode = response.StatusCode;
        if (response.Headers is not null)
        {
            foreach (var (name, value) in response.Headers)
            {
                context.Response.Headers[name] = value;
            }
        }

        if (response.Body.Length == 0)
        {
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(response.Body);
        if (!string.IsNullOrEmpty(response.ContentType))
        {
            context.Response.ContentType = response.ContentType;
        }

        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }

    // Middleware: reads the body once, then records the request just before its response starts, so
    // by the time the client sees an answer, Requests (and the fake's delivered list) already hold it.
    private async Task RecordAsync(HttpContext context, RequestDelegate next)
    {
        var receivedAt = DateTimeOffset.UtcNow;
        context.Items[ReceivedAtKey] = receivedAt;
        var request = context.Request;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in request.Headers)
        {
            headers[name] = value.ToString();
        }

        var body = Array.Empty<byte>();
        var recorded = 0;
        void RecordOnce(int status)
        {
            if (Interlocked.Exchange(ref recorded, 1) == 0)
            {
                Record(new RecordedRequest(
                    receivedAt,
                    request.Method,
                    request.Path.Value ?? string.Empty,
                    request.QueryString.Value ?? string.Empty,
                    headers,
                    Encoding.UTF8.GetString(body),
                    status));
            }
        }

        var failed = false;
        try
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
            body = buffer.ToArray();
            context.Items[RawBodyKey] = body;
            context.Response.OnStarting(() =>
            {
                RecordOnce(context.Response.StatusCode);
                return Task.CompletedTask;
            });

            await next(context).ConfigureAwait(false);
            if (!context.Response.HasStarted && !IsAborted(context))
            {
                await context.Response.StartAsync(context.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (IsAborted(context))
        {
            // Client went away; recorded as 499 below.
        }
        catch
        {
            failed = true;
            throw;
        }
        finally
        {
            RecordOnce(IsAborted(context) && !context.Response.HasStarted ? ClientClosedRequest
                : failed ? StatusCodes.Status500InternalServerError
                : context.Response.StatusCode);
        }
    }

    private void Record(RecordedRequest request)
    {
        lock (_gate)
        {
            _requests.Add(request);
        }

        Interlocked.Exchange(ref _recorded, NewSignal()).TrySetResult();
    }

    private string DescribeTimeout(TimeSpan limit, string? because)
    {
        var requests = Requests;
        var text = new StringBuilder();
        text.Append(because ?? "Condition was not met")
            .Append(CultureInfo.InvariantCulture, $" (waited {limit.TotalSeconds:0.###} s). ")
            .Append(CultureInfo.InvariantCulture, $"{GetType().Name} at {_baseUrl ?? "(not started)"} received {requests.Count} request(s)");
        if (requests.Count == 0)
        {
            return text.Append('.').ToString();
        }

        text.Append(": ").AppendJoin(", ", requests
            .GroupBy(r => r.StatusCode)
            .OrderBy(g => g.Key)
            .Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Count()}× {g.Key}")));
        text.Append(". Last ones:");
        foreach (var r in requests.TakeLast(10))
        {
            var body = r.Body.Length > 160 ? string.Concat(r.Body.AsSpan(0, 160), "…") : r.Body;
            text.Append(CultureInfo.InvariantCulture, $"\n  {r.ReceivedAt:HH:mm:ss.fff} {r.Method} {r.Path}{r.QueryString} → {r.StatusCode} {body}");
        }

        return text.ToString();
    }
}
