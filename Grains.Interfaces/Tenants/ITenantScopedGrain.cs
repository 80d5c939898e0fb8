namespace Dovecote.Grains.Interfaces.Tenants;

/// <summary>Marks grains keyed "{tenant}/..." whose calls must come from that tenant (checked by a silo call filter).</summary>
public interface ITenantScopedGrain;
