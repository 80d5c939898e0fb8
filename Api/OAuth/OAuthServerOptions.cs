using System.ComponentModel.DataAnnotations;

namespace Dovecote.Api.OAuth;

/// <summary>Token lifetimes and the sign-in and registration limits of the authorization server (section "OAuth").</summary>
public sealed class OAuthServerOptions
{
    public const string Section = "OAuth";

    /// <summary>
    /// Hours, not minutes: Claude.ai is known to skip refreshing, and revocation still takes effect within
    /// <see cref="TokenStatusCacheLifetime"/> because /mcp checks the token's entry and grant.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>
    /// How long a pod may trust that an access token and its grant were valid in their grains: the longest a revocation
    /// made through another pod takes to reach this one (through this pod it is at once). Zero reads both grains on every call.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:05")]
    public TimeSpan TokenStatusCacheLifetime { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Tokens and grants remembered per pod (two entries per token in use, a few hundred bytes each); past it, calls read the grains.</summary>
    [Range(100, 1_000_000)]
    public int TokenStatusCacheEntries { get; set; } = 20_000;

    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")]
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How long a rotated refresh token may still be used (a client retrying a lost response); later reuse revokes the grant.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan RefreshTokenReuseLeeway { get; set; } = TimeSpan.FromSeconds(30);

    [Range(typeof(TimeSpan), "00:00:10", "00:10:00")]
    public TimeSpan AuthorizationCodeLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Wrong passwords allowed per client address, and per tenant, in <see cref="SignInWindow"/>; then 429.</summary>
    [Range(1, 1000)]
    public int SignInFailuresPerAddress { get; set; } = 10;

    [Range(1, 1000)]
    public int SignInFailuresPerTenant { get; set; } = 10;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan SignInWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Claude.ai registers again on every connect, from shared addresses, so the limit is generous.</summary>
    [Range(1, 10000)]
    public int RegistrationsPerAddressPerMinute { get; set; } = 30;

    public (int Limit, TimeSpan Window) SignInPerAddress => (SignInFailuresPerAddress, SignInWindow);
    public (int Limit, TimeSpan Window) SignInPerTenant => (SignInFailuresPerTenant, SignInWindow);
    /// <summary>Shared by /register and client metadata documents: fetching a new document is a registration too.</summary>
    public (int Limit, TimeSpan Window) RegistrationPerAddress => (RegistrationsPerAddressPerMinute, TimeSpan.FromMinutes(1));
}
