namespace Dovecote.Grains.Tenants;

[GenerateSerializer, Alias("dovecote.TenantDirectoryState")]
public sealed class TenantDirectoryState
{
    /// <summary>Tenant ids in ordinal order.</summary>
    [Id(0)] public List<string> Tenants { get; set; } = [];
}
