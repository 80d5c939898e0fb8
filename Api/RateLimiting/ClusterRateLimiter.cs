using System.Net;
using System.Net.Sockets;
using Dovecote.Api.Hosting;
using Dovecote.Grains.Interfaces.RateLimiting;

namespace Dovecote.Api.RateLimiting;

/// <summary>Cluster-wide limits: every Api pod counts in the same grain, so scaling out does not multiply an attacker's budget.</summary>
public sealed class ClusterRateLimiter(IGrainFactory grains, ILogger<ClusterRateLimiter> logger)
{
    public static readonly (int Limit, TimeSpan Window) FailedAuthentication = (20, TimeSpan.FromMinutes(1));
    public static readonly (int Limit, TimeSpan Window) Admin = (300, TimeSpan.FromMinutes(1));
    public static readonly (int Limit, TimeSpan Window) FailedAdminToken = (10, TimeSpan.FromMinutes(5));

    // Every request passes a limiter, so each call rides out a failing-over silo (ClusterCalls) rather than failing the request.

    public Task<RateLimitDecision> HitAsync(string bucket, string key, (int Limit, TimeSpan Window) rule) =>
        ClusterCalls.RetryAsync(() => Grain(bucket, key).TryAcquireAsync(rule.Limit, rule.Window), logger);

    public Task<RateLimitDecision> PeekAsync(string bucket, string key, (int Limit, TimeSpan Window) rule) =>
        ClusterCalls.RetryAsync(() => Grain(bucket, key).PeekAsync(rule.Limit, rule.Window), logger);

    public Task ReleaseAsync(string bucket, string key, (int Limit, TimeSpan Window) rule) =>
        ClusterCalls.RetryAsync(async () => { await Grain(bucket, key).ReleaseAsync(rule.Window); return true; }, logger);

    private IRateLimitGrain Grain(string bucket, string key) => grains.GetGrain<IRateLimitGrain>(GrainKeys.RateLimit(bucket, key));

    public static string ClientKey(HttpContext http) => ClientKey(http.Connection.RemoteIpAddress);

    /// <summary>
    /// Whose budget an address spends: an IPv4 address (also when IPv4-mapped), or the IPv6 /64 it is in, since one host
    /// is usually handed a whole /64 and could otherwise take a fresh budget from each of its 2^64 addresses.
    /// </summary>
    public static string ClientKey(IPAddress? address)
    {
        if (address is null) return "unknown";
        if (address.IsIPv4MappedToIPv6) return address.MapToIPv4().ToString();
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address.ToString();
        var bytes = address.GetAddressBytes();
        bytes.AsSpan(8).Clear(); // also drops any scope id
        return $"{new IPAddress(bytes)}/64";
    }

    public static IResult TooMany(RateLimitDecision decision)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(decision.RetryAfter.TotalSeconds));
        var body = Results.Json(new { error = "rate_limited", error_description = $"Too many requests; retry in {seconds} s." },
            statusCode: StatusCodes.Status429TooManyRequests);
        return new RetryAfterResult(body, seconds);
    }

    private sealed class RetryAfterResult(IResult inner, int seconds) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = seconds.ToString();
            return inner.ExecuteAsync(httpContext);
        }
    }
}
