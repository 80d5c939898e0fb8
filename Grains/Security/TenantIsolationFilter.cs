namespace Dovecote.Grains.Security;

/// <summary>
/// Backstop for tenant isolation: a call into a tenant-scoped grain must carry the grain's own tenant.
/// The front end derives the tenant from the authenticated principal; this catches any path that forgets.
/// </summary>
internal sealed class TenantIsolationFilter(ILogger<TenantIsolationFilter> logger) : IIncomingGrainCallFilter
{
    public Task Invoke(IIncomingGrainCallContext context)
    {
        // Timers, reminders and system calls arrive through other interfaces and carry no tenant.
        if (context.InterfaceMethod?.DeclaringType is { } contract && typeof(ITenantScopedGrain).IsAssignableFrom(contract))
        {
            var caller = TenantContext.Current;
            var owner = GrainKeys.TenantOf(context.TargetId.Key.ToString() ?? "");
            if (caller is null || owner is null || !string.Equals(caller, owner, StringComparison.Ordinal))
            {
                logger.LogWarning("Refused {Method} on {Grain} for tenant {Caller}", context.InterfaceMethod.Name, context.TargetId, caller ?? "(none)");
                throw new TenantIsolationException(caller is null
                    ? "The call carries no tenant."
                    : $"Tenant '{caller}' may not call a grain of another tenant.");
            }
        }

        return context.Invoke();
    }
}
