namespace Dovecote.Grains.OAuth;

/// <summary>
/// OpenIddict's optimistic concurrency for the OAuth entity grains: each write stores a fresh token, so a copy read
/// before it no longer matches and its update, delete or redemption is refused.
/// </summary>
internal static class ConcurrencyTokens
{
    public static string New() => Guid.NewGuid().ToString("N");
}
