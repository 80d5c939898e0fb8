namespace Dovecote.Grains.Interfaces.Tenants;

/// <summary>A call reached a grain of another tenant, or carried no tenant at all.</summary>
[GenerateSerializer, Alias("dovecote.TenantIsolationException")]
public sealed class TenantIsolationException : Exception
{
    public TenantIsolationException(string message) : base(message) { }
}
