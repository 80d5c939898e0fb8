namespace Dovecote.Grains.Interfaces.OAuth;

/// <summary>
/// Deletes stale tokens, authorizations and unused self-registered applications, keyed <see cref="OAuthKeys.Singleton"/>.
/// An hourly reminder runs a pass with the threshold now − 14 days, as OpenIddict.Quartz would.
/// </summary>
[Alias("dovecote.IOAuthPrunerGrain")]
public interface IOAuthPrunerGrain : IGrainWithStringKey
{
    /// <summary>Registers the hourly reminder unless it exists. Interleaves, so a grain called during a pass can still ask.</summary>
    [Alias("EnsureStarted"), AlwaysInterleave]
    Task EnsureStartedAsync();

    /// <summary>
    /// One pass: tokens and authorizations created before <paramref name="threshold"/> per the EF rules, then
    /// self-registered applications never used and older than <paramref name="now"/> − 24 hours. Taking
    /// <paramref name="now"/> lets tests prune as of a later time instead of waiting.
    /// </summary>
    [Alias("Prune")]
    Task<OAuthPruneResult> PruneAsync(DateTimeOffset threshold, DateTimeOffset now);
}

[GenerateSerializer, Immutable, Alias("dovecote.OAuthPruneResult")]
public sealed record OAuthPruneResult(
    [property: Id(0)] long Tokens,
    [property: Id(1)] long Authorizations,
    [property: Id(2)] long Applications);
