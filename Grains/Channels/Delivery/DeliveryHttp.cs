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

    private const int MaxBodyChars = 16 * 1024;

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
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } e
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
        try
        {
            using var response = await pipeline.ExecuteAsync(
                static async (ctx, state) => await state.client.SendAsync(state.createRequest(), ctx.CancellationToken),
                context,
                (client, createRequest));
            return classify(response, await ReadBodyAsync(response, cancellationToken));
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

    /// <summary>Seconds from Retry-After (delta or date), or null.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider time) =>
        response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - time.GetUtcNow() is var d && d > TimeSpan.Zero ? d : TimeSpan.Zero,
            _ => null,
        };

    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static async Task<string> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return body.Length > MaxBodyChars ? body[..MaxBodyChars] : body;
    }
}
