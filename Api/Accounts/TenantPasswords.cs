using Dovecote.Api.Audit;
using Dovecote.Api.OAuth;
using Dovecote.Api.RateLimiting;

namespace Dovecote.Api.Accounts;

public abstract record PasswordCheck
{
    public sealed record Passed : PasswordCheck;
    public sealed record Refused : PasswordCheck;
    public sealed record Limited(TimeSpan RetryAfter) : PasswordCheck;
}

/// <summary>
/// Checks a tenant's password under the cluster-wide failure budgets (per client address and per tenant), for every form
/// that takes one (the consent page, /signin): they share the budgets, so a guesser gains nothing by switching pages.
/// </summary>
public sealed class TenantPasswords(IGrainFactory grains, ClusterRateLimiter limiter, IOptions<OAuthServerOptions> options, AuditTrail audit)
{
    /// <summary>A refusal is audited in the tenant as <paramref name="failureAction"/> on <paramref name="target"/>.</summary>
    public async Task<PasswordCheck> CheckAsync(HttpContext http, string tenant, string password, string failureAction, string target)
    {
        var (perAddress, perTenant) = (options.Value.SignInPerAddress, options.Value.SignInPerTenant);
        var address = ClusterRateLimiter.ClientKey(http);
        var tenantKey = GrainKeys.IsValidTenant(tenant) ? tenant : "invalid";

        // Every attempt is reserved (counted) before the password is looked at, so a right guess past the limit is refused like
        // a wrong one, and concurrent POSTs cannot all pass a check made before any of them is counted. A success gives its
        // reservations back, so the budgets count failures only and people signing in from one office never use them up.
        if (await limiter.HitAsync("signin-fail-ip", address, perAddress) is { Allowed: false } byAddress)
            return new PasswordCheck.Limited(byAddress.RetryAfter);
        if (await limiter.HitAsync("signin-fail-tenant", tenantKey, perTenant) is { Allowed: false } byTenant)
        {
            await limiter.ReleaseAsync("signin-fail-ip", address, perAddress); // this attempt was never evaluated
            return new PasswordCheck.Limited(byTenant.RetryAfter);
        }

        if (!GrainKeys.IsValidTenant(tenant) || !await VerifyAsync(tenant, password))
        {
            if (GrainKeys.IsValidTenant(tenant)) await audit.RecordAsync(tenant, "anonymous", failureAction, target, null, http);
            return new PasswordCheck.Refused();
        }
        await limiter.ReleaseAsync("signin-fail-ip", address, perAddress);
        await limiter.ReleaseAsync("signin-fail-tenant", tenantKey, perTenant);
        return new PasswordCheck.Passed();
    }

    private async Task<bool> VerifyAsync(string tenant, string password)
    {
        using var scope = TenantContext.Enter(tenant);
        return password.Length > 0 && await grains.GetGrain<ITenantGrain>(tenant).VerifyPasswordAsync(password);
    }
}
