using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Dovecote.Api;
using Dovecote.Tests.Fakes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dovecote.Tests.Security;

/// <summary>
/// A bounded fuzz pass over the anonymous and authenticated surface of the real Api: random and mutated MCP, OAuth and
/// admin requests. Nothing may answer 5xx, and nothing may log an error or an unhandled exception. The seed is fixed
/// (DOVECOTE_FUZZ_SEED overrides it) so a failure can be replayed.
/// </summary>
public sealed class FuzzTests : IAsyncLifetime
{
    private const string ApiKey = "fuzz-api-key-0123456789abcdef0123456789";
    private const string AdminToken = "fuzz-admin-token-0123456789abcdef012345";
    private const int Requests = 3_000;
    private static readonly TimeSpan TimeBudget = TimeSpan.FromSeconds(90);

    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("dovecote-fuzz-").FullName;
    private readonly FakeTelegramServer _telegram = new();
    private readonly ErrorLog _errors = new();
    private WebApplication? _app;
    private HttpClient? _http;

    public async ValueTask InitializeAsync()
    {
        await _telegram.StartAsync();
        _app = DovecoteApi.Create(LoopbackApiArguments.For(
            _dataDirectory,
            $"--DOVECOTE_API_KEYS={ApiKey}",
            $"--ADMIN_TOKEN={AdminToken}",
            "--OAUTH_PASSWORD=fuzz-password-123",
            "--DOVECOTE_ALLOW_PRIVATE_TARGETS=true",
            $"--TELEGRAM_API_BASE_URL={_telegram.BaseUrl}",
            """--TELEGRAM_INSTANCES=[{"id":"phone","botToken":"123456:fuzz-token","chatId":"4242"}]"""));
        _app.Services.GetRequiredService<ILoggerFactory>().AddProvider(_errors);
        await _app.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri(_app.Urls.First()), Timeout = TimeSpan.FromSeconds(60) };
    }

    [Fact]
    public async Task Thousands_of_random_and_mutated_requests_get_no_5xx_and_log_no_error()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("DOVECOTE_FUZZ_SEED"), out var s) ? s : 20261201;
        var random = new Random(seed);
        var requests = Enumerable.Range(0, Requests).Select(_ => NextRequest(random)).ToList();
        var failures = new ConcurrentBag<string>();
        var statuses = new ConcurrentDictionary<int, int>();
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        budget.CancelAfter(TimeBudget);
        var sent = 0;

        try
        {
            await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = budget.Token }, async (fuzz, ct) =>
            {
                using var request = fuzz.ToHttpRequest();
                try
                {
                    using var response = await _http!.SendAsync(request, ct);
                    Interlocked.Increment(ref sent);
                    statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
                    if ((int)response.StatusCode >= 500)
                        failures.Add($"{(int)response.StatusCode} for {fuzz} → {Truncate(await response.Content.ReadAsStringAsync(ct))}");
                }
                catch (HttpRequestException e)
                {
                    failures.Add($"no answer ({e.HttpRequestError}) for {fuzz}");
                }
            });
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            // The time budget ran out; what was sent is judged below.
        }

        var summary = $"seed {seed}: {sent} requests, statuses {string.Join(", ", statuses.OrderBy(p => p.Key).Select(p => $"{p.Key}×{p.Value}"))}";
        TestContext.Current.TestOutputHelper?.WriteLine(summary);
        foreach (var entry in _errors.Entries.Distinct().Take(30)) TestContext.Current.TestOutputHelper?.WriteLine(entry);
        Assert.True(sent >= 1_000, $"the fuzz pass sent only {summary}");
        Assert.True(failures.IsEmpty, $"{summary}\n{string.Join('\n', failures.Take(10))}");
        Assert.True(_errors.Entries.IsEmpty, $"{summary}\nlogged errors:\n{string.Join('\n', _errors.Entries.Take(10))}");
        // Not a check that cannot fail: the pass reached past the guards (tool calls answered, admin writes accepted).
        Assert.True(statuses.GetValueOrDefault(200) > 100, summary);
    }

    private static FuzzRequest NextRequest(Random random) => random.Next(10) switch
    {
        < 5 => McpRequest(random),
        < 8 => OAuthRequest(random),
        _ => AdminRequest(random),
    };

    private static FuzzRequest McpRequest(Random random)
    {
        var bearer = random.Next(10) switch
        {
            < 7 => ApiKey,
            7 => $"dvc_{RandomToken(random, 12)}_{RandomToken(random, 32)}",
            8 => $"eyJ{RandomToken(random, 40)}.{RandomToken(random, 40)}.{RandomToken(random, 20)}",
            _ => null,
        };
        string body;
        if (random.Next(8) == 0)
        {
            body = Mutate(random, """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"send_notification","arguments":{"message":"hi"}}}""");
        }
        else
        {
            string[] tools = ["send_notification", "list_channels", "get_delivery_status", "get_env", "nope", ""];
            var arguments = new JsonObject();
            foreach (var name in Pick(
                random,
                ["channel", "channels", "message", "title", "url", "priority", "format", "idempotency_key", "wait_seconds", "delivery_id", "profile", "extra"],
                random.Next(6)))
                arguments[name] = name == "wait_seconds" ? random.Next(3) - 1
                    : name == "channel" && random.Next(2) == 0 ? "telegram-phone"
                    : RandomValue(random, depth: 0);
            string[] methods = ["tools/call", "tools/call", "tools/call", "tools/list", "initialize", "ping", "resources/list", "nonsense/x"];
            var envelope = new JsonObject
            {
                ["jsonrpc"] = random.Next(20) == 0 ? "1.0" : "2.0",
                ["id"] = random.Next(10) == 0 ? RandomValue(random, 0) : random.Next(1_000_000),
                ["method"] = methods[random.Next(methods.Length)],
                ["params"] = random.Next(10) == 0
                    ? RandomValue(random, 0)
                    : new JsonObject { ["name"] = tools[random.Next(tools.Length)], ["arguments"] = arguments },
            };
            body = envelope.ToJsonString();
        }
        return new FuzzRequest(HttpMethod.Post, "/mcp", body, random.Next(12) == 0 ? "text/plain" : "application/json", bearer,
            Accept: random.Next(12) == 0 ? "text/html" : "application/json, text/event-stream");
    }

    private static FuzzRequest OAuthRequest(Random random)
    {
        switch (random.Next(6))
        {
            case 0:
                var metadata = new JsonObject();
                foreach (var name in Pick(
                    random,
                    [
                        "client_name", "redirect_uris", "token_endpoint_auth_method", "grant_types", "response_types", "scope", "client_uri",
                        "logo_uri", "contacts", "software_id",
                    ],
                    random.Next(7)))
                    metadata[name] = name == "redirect_uris" && random.Next(2) == 0
                        ? new JsonArray("http://127.0.0.1/cb", RandomString(random))
                        : RandomValue(random, 0);
                return new FuzzRequest(
                    HttpMethod.Post,
                    "/register",
                    random.Next(6) == 0 ? Mutate(random, metadata.ToJsonString()) : metadata.ToJsonString(),
                    "application/json",
                    null);
            case 1:
                return new FuzzRequest(
                    HttpMethod.Post,
                    "/token",
                    Form(random, ["grant_type", "code", "redirect_uri", "client_id", "client_secret", "code_verifier", "refresh_token", "resource", "scope"]),
                    "application/x-www-form-urlencoded",
                    null);
            case 2:
                return new FuzzRequest(
                    HttpMethod.Get,
                    "/authorize?" + Form(random, [
                        "response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method", "resource",
                    ]),
                    null,
                    null,
                    null);
            case 3:
                return new FuzzRequest(
                    HttpMethod.Post,
                    "/authorize",
                    Form(
                        random,
                        [
                            "tenant", "password", "csrf", "decision", "client_id", "redirect_uri", "response_type", "code_challenge",
                            "code_challenge_method", "scope",
                        ]),
                    "application/x-www-form-urlencoded",
                    null);
            case 4:
                return new FuzzRequest(
                    HttpMethod.Post,
                    "/revoke",
                    Form(random, ["token", "token_type_hint", "client_id", "client_secret"]),
                    "application/x-www-form-urlencoded",
                    null);
            default:
                string[] paths =
                [
                    "/.well-known/oauth-authorization-server",
                    "/.well-known/openid-configuration",
                    "/.well-known/oauth-protected-resource/mcp",
                    "/.well-known/jwks",
                    "/.well-known/" + RandomToken(random, 8),
                ];
                return new FuzzRequest(HttpMethod.Get, paths[random.Next(paths.Length)], null, null, null);
        }
    }

    private static FuzzRequest AdminRequest(Random random)
    {
        string[] tenants = ["acme", "default", "t-" + random.Next(20), RandomToken(random, random.Next(1, 80)), "_system", "A B", "%2e%2e"];
        string[] channels = ["phone", "c-" + random.Next(20), RandomToken(random, random.Next(1, 90)), "..", "a%2Fb"];
        var tenant = Uri.EscapeDataString(tenants[random.Next(tenants.Length)]);
        var channel = Uri.EscapeDataString(channels[random.Next(channels.Length)]);
        string[] paths =
        [
            $"/admin/tenants/{tenant}", $"/admin/tenants/{tenant}/channels/{channel}", $"/admin/tenants/{tenant}/channels/{channel}/dead-letters",
            $"/admin/tenants/{tenant}/channels/{channel}/redrive", $"/admin/tenants/{tenant}/api-keys", $"/admin/tenants/{tenant}/env/{channel}",
            $"/admin/tenants/{tenant}/audit?day={RandomString(random)}", "/admin/revoke", "/admin/audit", $"/admin/tenants/{tenant}/grants",
        ];
        HttpMethod[] methods = [HttpMethod.Put, HttpMethod.Get, HttpMethod.Post, HttpMethod.Delete];
        var body = new JsonObject();
        foreach (var name in Pick(
            random,
            ["displayName", "password", "type", "name", "enabled", "settings", "rateLimit", "values", "deliveryId", "grant_id", "tenant"],
            random.Next(6)))
            body[name] = name switch
            {
                "type" => random.Next(2) == 0 ? "telegram" : RandomString(random),
                "settings" when random.Next(2) == 0 => new JsonObject
                {
                    ["botToken"] = "1:" + RandomToken(random, 10),
                    ["chatId"] = RandomValue(random, 1),
                    ["webhookUrl"] = RandomValue(random, 1),
                    ["url"] = "https://example.com/" + RandomToken(random, 4),
                    ["secret"] = RandomValue(random, 1),
                },
                "values" when random.Next(2) == 0 => new JsonObject { [RandomString(random)] = RandomString(random) },
                _ => RandomValue(random, 0),
            };
        return new FuzzRequest(
            methods[random.Next(methods.Length)],
            paths[random.Next(paths.Length)],
            random.Next(8) == 0 ? Mutate(random, body.ToJsonString()) : body.ToJsonString(),
            "application/json",
            random.Next(10) == 0 ? RandomToken(random, 40) : AdminToken);
    }

    private static JsonNode? RandomValue(Random random, int depth) => random.Next(depth > 2 ? 6 : 9) switch
    {
        0 => null,
        1 => random.Next(2) == 0,
        2 => random.Next(6) switch { 0 => double.MaxValue, 1 => -1, 2 => 1e300, 3 => long.MinValue, _ => random.Next() },
        3 or 4 or 5 => RandomString(random),
        6 => new JsonArray([.. Enumerable.Range(0, random.Next(4)).Select(_ => RandomValue(random, depth + 1))]),
        _ => new JsonObject(Enumerable.Range(0, random.Next(4)).Select(i => KeyValuePair.Create($"k{i}", RandomValue(random, depth + 1)))),
    };

    private static string RandomString(Random random) => random.Next(12) switch
    {
        0 => "",
        1 => new string('x', random.Next(1, 70_000)),
        2 => string.Concat(Enumerable.Repeat("> ", 200)) + "deep",
        3 => "| " + new string('h', 3_000) + " | b |\n|---|---|\n" + string.Concat(Enumerable.Repeat("| x | y |\n", 500)),
        4 => "\u0000\uFFFF\uD800 ☃ 🐦 \u202E" + RandomToken(random, 5),
        5 => "https://" + RandomToken(random, 6) + ".example/" + RandomToken(random, 10),
        6 => "http://127.0.0.1:1/" + RandomToken(random, 4),
        7 => "**bold** _it_ `code` [link](javascript:alert(1)) <b>&amp;</b>",
        8 => "../../etc/passwd",
        9 => "NaN",
        _ => RandomToken(random, random.Next(1, 40)),
    };

    private static string RandomToken(Random random, int length)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.";
        return string.Create(length, random, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++) span[i] = alphabet[r.Next(alphabet.Length)];
        });
    }

    private static string Form(Random random, string[] names) =>
        string.Join('&', Pick(random, names, random.Next(names.Length + 1)).Select(n => $"{n}={Uri.EscapeDataString(FormValue(random))}"));

    private static string FormValue(Random random)
    {
        var value = random.Next(3) == 0 ? RandomToken(random, 20) : RandomString(random);
        return value.Length > 3_000 ? value[..3_000] : value;
    }

    private static IEnumerable<string> Pick(Random random, string[] names, int count) => names.OrderBy(_ => random.Next()).Take(count);

    /// <summary>Flips, drops or duplicates bytes of a valid body, so the parsers see almost-JSON.</summary>
    private static string Mutate(Random random, string valid)
    {
        var chars = new StringBuilder(valid);
        for (var i = random.Next(1, 6); i > 0 && chars.Length > 0; i--)
        {
            var at = random.Next(chars.Length);
            switch (random.Next(3))
            {
                case 0: chars[at] = (char)random.Next(32, 127); break;
                case 1: chars.Remove(at, 1); break;
                default: chars.Insert(at, chars[at]); break;
            }
        }
        return chars.ToString();
    }

    private static string Truncate(string text) => text.Length > 300 ? text[..300] + "…" : text;

    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        if (_app is not null) await _app.DisposeAsync();
        await _telegram.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    private sealed record FuzzRequest(HttpMethod Method, string Path, string? Body, string? ContentType, string? Bearer, string Accept = "application/json")
    {
        public HttpRequestMessage ToHttpRequest()
        {
            var request = new HttpRequestMessage(Method, Path);
            if (Body is not null) request.Content = new StringContent(Body, Encoding.UTF8, ContentType ?? "application/json");
            if (Bearer is not null) request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {Bearer}");
            // Loopback is a trusted proxy: requests with the right credentials come from another address than
            // the guessing ones, so the guessing budget (which also stops the right key) does not end the pass early.
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", Bearer is ApiKey or AdminToken ? "198.51.100.7" : "198.51.100.66");
            request.Headers.TryAddWithoutValidation("Accept", Accept);
            request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", "2025-11-25");
            return request;
        }

        public override string ToString() => $"{Method} {Path} {(Body is null ? "" : Truncate(Body))}";
    }

    /// <summary>Every log entry at Error or above, and any entry carrying an exception the code did not expect.</summary>
    private sealed class ErrorLog : ILoggerProvider
    {
        public ConcurrentQueue<string> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(ErrorLog log, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                // The SDK logs the JSON-RPC error it answers for an unknown tool name (-32602) as an error; it is answered.
                if (logLevel >= LogLevel.Error
                    && exception is not ModelContextProtocol.McpProtocolException { ErrorCode: ModelContextProtocol.McpErrorCode.InvalidParams })
                    log.Entries.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception?.GetType().Name}: {exception?.Message}");
            }
        }
    }
}
