using System.Buffers;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Dovecote.Grains.Security;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Dovecote.Grains.Channels.Delivery;

/// <summary>The in-call part of delivery shared by every sender: Polly timeout, blip retry, circuit breaker, and exception classification.</summary>
public static class DeliveryHttp
{
    /// <summary>Platform clients (Telegram, whose base URL the operator sets).</summary>
    public const string PlatformClient = "dovecote-platform";

    /// <summary>Tenant-supplied URLs go through the SSRF guard.</summary>
    public const string GuardedClient = "dovecote-guarded";

    /// <summary>The most of an answer we read. Every platform answer that decides an outcome fits; the rest of a
    /// tenant-chosen URL's body is never read.</summary>
    public const int MaxBodyBytes = 16 * 1024;

    /// <summary>Per channel: the breaker stops hammering a destination that keeps failing; waits longer than a blip are grain state.</summary>
    public static ResiliencePipeline<HttpResponseMessage> CreatePipeline(DeliveryOptions options, TimeProvider time) =>
        new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                FailureRatio = 1.0,
                MinimumThroughput = 5,
                SamplingDuration = TimeSpan.FromMinutes(1),
                BreakDuration = options.CircuitBreakDuration,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
                {
                    { Exception: OutboundTargetRefusedException } => false,
                    { Exception: HttpRequestException or TimeoutRejectedException } => true,
                    { Result.StatusCode: >= HttpStatusCode.InternalServerError } => true,
                    _ => false,
                }),
            })
            // A refused connection never reached the platform, so one quick retry cannot duplicate a message.
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = 1,
                Delay = TimeSpan.FromMilliseconds(200),
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } e
                    && e.InnerException is not OutboundTargetRefusedException),
            })
            .AddTimeout(options.AttemptTimeout)
            .Build();

    /// <summary>Sends through the pipeline on the caller's (grain) scheduler and classifies failures that never produced a response.</summary>
    public static async Task<SendOutcome> SendAsync(
        HttpClient client,
        ResiliencePipeline<HttpResponseMessage> pipeline,
        Func<HttpRequestMessage> createRequest,
        Func<HttpResponseMessage, string, SendOutcome> classify,
        CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(continueOnCapturedContext: true, cancellationToken);
        var body = new BodyPrefix();
        try
        {
            using var response = await pipeline.ExecuteAsync(
                static async (ctx, state) =>
                {
                    // Headers only: the body is read here, bounded and inside the attempt's timeout.
                    var response = await state.client.SendAsync(state.createRequest(), HttpCompletionOption.ResponseHeadersRead, ctx.CancellationToken);
                    try
                    {
                        state.body.Text = await ReadPrefixAsync(response.Content, ctx.CancellationToken, state.cancellationToken);
                        return response;
                    }
                    catch
                    {
                        response.Dispose();
                        throw;
                    }
                },
                context,
                (client, createRequest, body, cancellationToken));
            return Classify(classify, response, body.Text);
        }
        catch (BrokenCircuitException e)
        {
            return SendOutcome.Retryable("circuit open after repeated failures", e.RetryAfter);
        }
        catch (TimeoutRejectedException)
        {
            return SendOutcome.Retryable("timed out waiting for the platform");
        }
        catch (HttpRequestException e) when (e.InnerException is OutboundTargetRefusedException refused)
        {
            return SendOutcome.Dead(refused.Message);
        }
        catch (HttpRequestException e)
        {
            // The exception text can carry the URL, which holds webhook tokens: report only the error class.
            return SendOutcome.Retryable($"network error ({e.HttpRequestError})");
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>POSTs a JSON body built once; a retry inside the pipeline sends a fresh request with the same body.</summary>
    public static Task<SendOutcome> PostJsonAsync(
        HttpClient client,
        ResiliencePipeline<HttpResponseMessage> pipeline,
        string url,
        JsonNode body,
        Func<HttpResponseMessage, string, SendOutcome> classify,
        CancellationToken cancellationToken)
    {
        var json = body.ToJsonString();
        return SendAsync(client, pipeline, () => new HttpRequestMessage(HttpMethod.Post, url) { Content = Json(json) }, classify, cancellationToken);
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    /// <summary>
    /// At most <see cref="MaxBodyBytes"/> of the body. The status line and headers are the answer: a body that
    /// breaks off or is still dripping when the attempt times out keeps what arrived. Disposing the stream
    /// unread closes the connection, so a destination streaming megabytes costs us 16 KiB.
    /// </summary>
    private static async Task<string> ReadPrefixAsync(HttpContent content, CancellationToken attempt, CancellationToken caller)
    {
        // Rented: a fresh 16 KiB array per answer was the largest allocation of a busy silo.
        var buffer = ArrayPool<byte>.Shared.Rent(MaxBodyBytes);
        try
        {
            var length = 0;
            var complete = false;
            try
            {
                await using var stream = await content.ReadAsStreamAsync(attempt);
                while (length < MaxBodyBytes)
                {
                    var read = await stream.ReadAsync(buffer.AsMemory(length, MaxBodyBytes - length), attempt);
                    if (read == 0)
                    {
                        complete = true;
                        break;
                    }
                    length += read;
                }
            }
            catch (Exception e) when (e is IOException || (e is OperationCanceledException && !caller.IsCancellationRequested))
            {
                // Keep the prefix; the classifiers read partial bodies (ReplyJson).
            }
            return Decode(buffer.AsSpan(0, length), complete);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The platforms answer in UTF-8. Invalid bytes become U+FFFD; a character cut at the bound is
    /// dropped (flush: false) rather than decoded half. Never throws.</summary>
    private static string Decode(ReadOnlySpan<byte> bytes, bool complete)
    {
        if (bytes.StartsWith(Encoding.UTF8.Preamble)) bytes = bytes[Encoding.UTF8.Preamble.Length..];
        var chars = new char[Encoding.UTF8.GetMaxCharCount(bytes.Length)];
        var count = Encoding.UTF8.GetDecoder().GetChars(bytes, chars, flush: complete);
        return new string(chars, 0, count);
    }

    /// <summary>The classifiers read garbage defensively; this backstop makes sure no answer can throw out of
    /// a sender (a throw would stall the channel on its head message).</summary>
    private static SendOutcome Classify(Func<HttpResponseMessage, string, SendOutcome> classify, HttpResponseMessage response, string body)
    {
        try
        {
            // Discord does not count a 429 of a shared resource (X-RateLimit-Scope: shared) against our address.
            var invalid = (int)response.StatusCode is 401 or 403 or 429 && Header(response, "X-RateLimit-Scope") != "shared";
            return classify(response, body) with { InvalidAnswer = invalid };
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return SendOutcome.Retryable($"unreadable answer: HTTP {(int)response.StatusCode} ({e.GetType().Name})");
        }
    }

    private sealed class BodyPrefix
    {
        public string Text { get; set; } = string.Empty;
    }
}
