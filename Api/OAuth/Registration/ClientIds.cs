using System.Security.Cryptography;

namespace Dovecote.Api.OAuth.Registration;

/// <summary>
/// The two shapes of client_id this server knows: its own ("dvc-" and 48 hex digits) and a metadata-document URL. Anything
/// else cannot name a client here, so it is refused before any grain is asked (a random client_id would otherwise activate one).
/// </summary>
public static class ClientIds
{
    public const string Prefix = "dvc-";
    private const int HexDigits = 48;
    /// <summary>The longest metadata-document URL accepted as a client_id.</summary>
    public const int MaxUrlLength = 2048;

    public static string New() => Prefix + RandomNumberGenerator.GetHexString(HexDigits, lowercase: true);

    /// <summary>Cheap, allocation-free and grain-free: a shape check only, never proof that the client exists.</summary>
    public static bool IsWellFormed(string? clientId) => clientId is not null && (IsOwn(clientId) || IsUrlShaped(clientId));

    private static bool IsOwn(string clientId) =>
        clientId.Length == Prefix.Length + HexDigits && clientId.StartsWith(Prefix, StringComparison.Ordinal)
        && clientId.AsSpan(Prefix.Length).ContainsAnyExcept("0123456789abcdef") is false;

    /// <summary>https (or http, which only loopback development allows later) and printable ASCII, as RFC 3986 URLs are.</summary>
    public static bool IsUrlShaped(string clientId) =>
        clientId.Length <= MaxUrlLength
        && (clientId.StartsWith("https://", StringComparison.Ordinal) || clientId.StartsWith("http://", StringComparison.Ordinal))
        && !clientId.AsSpan().ContainsAnyExceptInRange('!', '~');
}
