namespace Dovecote.Tests.OAuth;

/// <summary>ENABLE_CLIENT_BOOTSTRAP=1: /register is closed; the operator provisions clients at POST /admin/bootstrap-client.</summary>
public sealed class ClosedRegistrationOAuthApiFixture : OAuthApiFixture
{
    protected override IEnumerable<string> ExtraArguments => ["--ENABLE_CLIENT_BOOTSTRAP=1"];
}

/// <summary>Closed registration that still accepts metadata documents from 127.0.0.1 (the tests' document site), and no other host.</summary>
public sealed class ClosedRegistrationWithDocumentHostsOAuthApiFixture : OAuthApiFixture
{
    protected override IEnumerable<string> ExtraArguments => ["--ENABLE_CLIENT_BOOTSTRAP=1", "--DOVECOTE_CIMD_ALLOWED_HOSTS=127.0.0.1"];
}

/// <summary>
/// At most 64 never-used self-registered clients, which is one per directory shard, and a per-address budget that never
/// gets in the way, so the cap is what refuses.
/// </summary>
public sealed class UnusedClientCapOAuthApiFixture : OAuthApiFixture
{
    protected override IEnumerable<string> ExtraArguments => ["--OAuth:MaxUnusedRegisteredClients=64", "--OAuth:RegistrationsPerAddressPerMinute=1000"];
}

/// <summary>Three unknown (well-formed) client_ids per address and minute at /authorize and /token.</summary>
public sealed class TightUnknownClientBudgetOAuthApiFixture : OAuthApiFixture
{
    protected override IEnumerable<string> ExtraArguments => ["--OAuth:UnknownClientIdsPerAddressPerMinute=3"];
}

/// <summary>
/// Behind a TLS-terminating proxy: DOVECOTE_PUBLIC_URL is https://notify.example.test (overriding the loopback one)
/// while Kestrel listens on plain http at <see cref="OAuthApiFixture.BaseUrl"/>; loopback is a trusted proxy by default,
/// so requests carry Host and X-Forwarded-Proto the way the proxy would send them.
/// </summary>
public sealed class ProxiedOAuthApiFixture : OAuthApiFixture
{
    public const string PublicOrigin = "https://notify.example.test";

    protected override IEnumerable<string> ExtraArguments => [$"--DOVECOTE_PUBLIC_URL={PublicOrigin}"];
}
