using System.Security.Claims;
using Dovecote.Api.Accounts;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Dovecote.Tests.Accounts;

/// <summary>
/// Google's and Microsoft's people as OpenIddict's client hands them over (the claims of their validated identity token and
/// userinfo), mapped to accounts under the e-mail-domain allowlist: only an address the provider vouches for counts.
/// </summary>
public sealed class UpstreamIdentityMappingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static UpstreamIdentities Identities(string? allowedDomains) => new(
        Options.Create(new UpstreamSignInOptions { OidcAllowedDomains = allowedDomains }),
        http: null!, // only GitHub's organisation check calls out
        NullLogger<UpstreamIdentities>.Instance);

    private static ClaimsPrincipal Person(params (string Type, string Value)[] claims) =>
        new(new ClaimsIdentity(claims.Select(c => new Claim(c.Type, c.Value)), "OpenIddict.Client.AspNetCore"));

    [Fact]
    public async Task A_Google_person_with_a_verified_address_in_an_allowed_domain_is_an_account_keyed_by_their_subject()
    {
        var identity = await Identities("example.com").ResolveAsync(SignInProviders.Google,
            Person(("sub", "110169484474386276334"), ("email", "ada@example.com"), ("email_verified", "true"), ("name", "Ada Lovelace"), ("hd", "example.com")),
            null, Ct);
        var allowed = Assert.IsType<UpstreamIdentity.Allowed>(identity);
        Assert.Equal("google:110169484474386276334", allowed.AccountId);
        Assert.Equal("Ada Lovelace", allowed.DisplayName);
        Assert.Equal("ada@example.com", allowed.Email);
    }

    [Theory]
    [InlineData("ada@example.com", "false", "Google did not confirm your e-mail address")]
    [InlineData("ada@example.com", null, "Google did not confirm your e-mail address")]
    [InlineData("ada@elsewhere.example", "true", "The address 'ada@elsewhere.example' is not in a domain allowed to sign in here.")]
    public async Task A_Google_address_that_is_unverified_or_in_another_domain_is_refused(string email, string? verified, string reason)
    {
        (string, string)[] claims = verified is null ? [("sub", "1101"), ("email", email)] : [("sub", "1101"), ("email", email), ("email_verified", verified)];
        var refused = Assert.IsType<UpstreamIdentity.Refused>(await Identities("example.com").ResolveAsync(SignInProviders.Google, Person(claims), null, Ct));
        Assert.Equal(SignInProviders.Google, refused.Provider);
        Assert.Contains(reason, refused.Reason);
    }

    [Fact]
    public async Task Without_an_allowlist_any_Google_person_is_let_in_and_one_without_a_subject_never()
    {
        var identities = Identities(null);
        var allowed = Assert.IsType<UpstreamIdentity.Allowed>(await identities.ResolveAsync(SignInProviders.Google, Person(("sub", "42"), ("email", "x@gmail.com")), null, Ct));
        Assert.Equal("google:42", allowed.AccountId);
        var refused = Assert.IsType<UpstreamIdentity.Refused>(await identities.ResolveAsync(SignInProviders.Google, Person(("email", "x@gmail.com")), null, Ct));
        Assert.Equal("Google did not say who you are.", refused.Reason);
    }

    [Fact]
    public async Task A_Microsoft_address_counts_only_when_Microsoft_says_its_domain_owner_verified_it()
    {
        var identities = Identities("example.com");
        (string, string)[] person = [("sub", "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ"), ("tid", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
            ("oid", "00000000-0000-0000-66f3-3332eca7ea81"), ("name", "Grace Hopper"), ("preferred_username", "grace@example.com"), ("email", "grace@example.com")];

        // Entra lets a tenant's administrator put any address in "email": without xms_edov it proves nothing.
        var unverified = Assert.IsType<UpstreamIdentity.Refused>(await identities.ResolveAsync(SignInProviders.Microsoft, Person(person), null, Ct));
        Assert.Contains("Microsoft did not confirm your e-mail address", unverified.Reason);
        // Google's claim name means nothing coming from Microsoft.
        Assert.IsType<UpstreamIdentity.Refused>(await identities.ResolveAsync(SignInProviders.Microsoft, Person([.. person, ("email_verified", "true")]), null, Ct));

        var verified = Assert.IsType<UpstreamIdentity.Allowed>(await identities.ResolveAsync(SignInProviders.Microsoft, Person([.. person, ("xms_edov", "true")]), null, Ct));
        Assert.Equal("microsoft:AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", verified.AccountId);
        Assert.Equal("Grace Hopper", verified.DisplayName);

        var otherDomain = Assert.IsType<UpstreamIdentity.Refused>(await identities.ResolveAsync(SignInProviders.Microsoft,
            Person([.. person.Where(c => c.Item1 != "email"), ("email", "grace@contoso.example"), ("xms_edov", "1")]), null, Ct));
        Assert.Equal("The address 'grace@contoso.example' is not in a domain allowed to sign in here.", otherDomain.Reason);
    }
}
