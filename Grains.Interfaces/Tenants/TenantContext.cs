using Orleans.Runtime;

namespace Dovecote.Grains.Interfaces.Tenants;

/// <summary>Carries the caller's tenant on grain calls, so the silo can refuse calls into other tenants' grains.</summary>
public static class TenantContext
{
    public const string RequestContextKey = "dovecote.tenant";

    public static string? Current => RequestContext.Get(RequestContextKey) as string;

    /// <summary>Calls made until the scope is disposed act for <paramref name="tenant"/>.</summary>
    public static IDisposable Enter(string tenant)
    {
        var previous = Current;
        RequestContext.Set(RequestContextKey, tenant);
        return new Scope(previous);
    }

    private sealed class Scope(string? previous) : IDisposable
    {
        public void Dispose()
        {
            if (previous is null) RequestContext.Remove(RequestContextKey);
            else RequestContext.Set(RequestContextKey, previous);
        }
    }
}
