namespace Dovecote.Grains.Interfaces.DataProtection;

/// <summary>
/// The ASP.NET Core Data Protection key ring, keyed "default", so every pod protects and unprotects cookies and
/// antiforgery tokens with the same keys. Holds the key XML as the key manager wrote it.
/// </summary>
[Alias("dovecote.IKeyRingGrain")]
public interface IKeyRingGrain : IGrainWithStringKey
{
    public const string DefaultKey = "default";

    [Alias("GetAll"), ReadOnly, AlwaysInterleave]
    Task<List<string>> GetAllAsync();

    /// <summary>Adds an element; one with the same friendly name is replaced.</summary>
    [Alias("Store")]
    Task StoreAsync(string xml, string friendlyName);
}
