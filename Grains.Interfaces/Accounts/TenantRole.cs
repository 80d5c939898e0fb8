namespace Dovecote.Grains.Interfaces.Accounts;

/// <summary>What a person may do in a tenant: an owner also manages members and invitations.</summary>
[GenerateSerializer, Alias("dovecote.TenantRole")]
public enum TenantRole
{
    Owner = 0,
    Member = 1,
}

/// <summary>One tenant a person belongs to, and their role there.</summary>
[GenerateSerializer, Immutable, Alias("dovecote.Membership")]
public sealed record Membership([property: Id(0)] string Tenant, [property: Id(1)] TenantRole Role);
