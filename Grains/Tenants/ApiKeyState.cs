namespace Dovecote.Grains.Tenants;

/// <summary>The verifying side of one API key. Never holds the secret itself, only its SHA-256.</summary>
[GenerateSerializer, Alias("dovecote.ApiKeyState")]
public sealed class ApiKeyState
{
    /// <summary>Null until registered; kept after revocation so the key id can never be bound again.</summary>
    [Id(0)] public string? Tenant { get; set; }
    /// <summary>SHA-256 of the secret's UTF-8 bytes; emptied on revocation.</summary>
    [Id(1)] public byte[] SecretHash { get; set; } = [];
    [Id(2)] public bool Revoked { get; set; }
    [Id(3)] public DateTimeOffset CreatedAt { get; set; }

    public override string ToString() => $"ApiKeyState {{ Tenant = {Tenant}, Revoked = {Revoked} }}";
}
