namespace Dovecote.Grains.Interfaces.Tenants;

/// <summary>A call named something that does not exist (a tenant); the message says what, and the admin API answers 404 with it.</summary>
[GenerateSerializer, Alias("dovecote.NotFoundException")]
public sealed class NotFoundException : Exception
{
    public NotFoundException(string message) : base(message) { }
}
