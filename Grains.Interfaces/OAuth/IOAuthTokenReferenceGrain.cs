namespace Dovecote.Grains.Interfaces.OAuth;

/// <summary>
/// Maps one reference id to its token, keyed <see cref="OAuthKeys.TokenReference"/>. Decides uniqueness: the
/// manager's own duplicate check is query-then-insert and races across pods.
/// </summary>
[Alias("dovecote.IOAuthTokenReferenceGrain")]
public interface IOAuthTokenReferenceGrain : IGrainWithStringKey
{
    /// <summary>True when now bound to <paramref name="tokenId"/> (also when it already was); false when another token holds it.</summary>
    [Alias("Bind")]
    Task<bool> BindAsync(string tokenId);

    /// <summary>Frees the reference id if <paramref name="tokenId"/> holds it.</summary>
    [Alias("Unbind")]
    Task UnbindAsync(string tokenId);

    [Alias("GetTokenId"), ReadOnly, AlwaysInterleave]
    Task<string?> GetTokenIdAsync();
}
