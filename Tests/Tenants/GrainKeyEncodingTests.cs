using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Grains.Interfaces.Tenants;

namespace Dovecote.Tests.Tenants;

/// <summary>
/// Every grain key must stay unique, and short enough, after the Azure Table provider maps it to a partition key.
/// </summary>
public sealed class GrainKeyEncodingTests
{
    private const string ServiceId = "dovecote";

    /// <summary>
    /// The partition key Microsoft.Orleans.Persistence.AzureStorage writes, as it does it: AzureTableGrainStorage.GetKeyString
    /// (src/Azure/Orleans.Persistence.AzureStorage/Providers/Storage/AzureTableStorage.cs) formats "{ServiceId}_{grainId}",
    /// grainId being "{grain type}/{key}", and AzureTableUtils.SanitizeTableProperty (src/Azure/Shared/Storage/AzureTableUtils.cs)
    /// replaces '/', '\', '#' and '?' with '_' and throws ArgumentException at 1,024 characters or more.
    /// </summary>
    private static string AzurePartitionKey(string grainType, string key)
    {
        var sanitized = $"{ServiceId}_{grainType}/{key}".Replace('/', '_').Replace('\\', '_').Replace('#', '_').Replace('?', '_');
        if (sanitized.Length >= 1024) throw new ArgumentException($"Key length {sanitized.Length} is too long to be an Azure table key.");
        return sanitized;
    }

    public static TheoryData<string, string> LookAlikeClientIds => new()
    {
        { "https://a.example/x/y", "https://a.example/x_y" },
        { "https://a.example/x#y", "https://a.example/x_y" },
        { "https://a.example/x?y", "https://a.example/x_y" },
        { @"https://a.example/x\y", "https://a.example/x_y" },
        { "https://a.example/x/y", "https://a.example/x?y" },
    };

    [Theory]
    [MemberData(nameof(LookAlikeClientIds))]
    public void Client_ids_that_differ_only_in_a_character_the_provider_replaces_get_different_rows(string first, string second)
    {
        // Raw, they would share one row: this is what the encoding is for.
        Assert.Equal(AzurePartitionKey("oauth-app", first), AzurePartitionKey("oauth-app", second));

        Assert.NotEqual(AzurePartitionKey("oauth-app", OAuthKeys.Application(first)), AzurePartitionKey("oauth-app", OAuthKeys.Application(second)));
        Assert.NotEqual(
            AzurePartitionKey("oauth-index", OAuthKeys.ApplicationAuthorizations(first)),
            AzurePartitionKey("oauth-index", OAuthKeys.ApplicationAuthorizations(second)));
        Assert.NotEqual(
            AzurePartitionKey("oauth-index", OAuthKeys.ApplicationTokens(first)),
            AzurePartitionKey("oauth-index", OAuthKeys.ApplicationTokens(second)));
        Assert.NotEqual(
            AzurePartitionKey("oauth-token-ref", OAuthKeys.TokenReference(first)),
            AzurePartitionKey("oauth-token-ref", OAuthKeys.TokenReference(second)));
        Assert.NotEqual(AzurePartitionKey("ratelimit", GrainKeys.RateLimit("signin-fail-tenant", first)),
            AzurePartitionKey("ratelimit", GrainKeys.RateLimit("signin-fail-tenant", second)));
    }

    [Fact]
    public void An_encoded_key_is_a_marker_and_the_hex_sha256_of_the_utf8()
    {
        const string clientId = "https://a.example/ü/x";
        var expected = "~" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(clientId)));
        Assert.Equal(expected, GrainKeys.Part(clientId));
        Assert.Equal(expected, OAuthKeys.Application(clientId));
        Assert.Equal(65, expected.Length);
    }

    [Fact]
    public void Sending_the_literal_encoded_form_never_reaches_the_encoded_key()
    {
        var encoded = GrainKeys.Part("https://a.example/x/y");
        Assert.StartsWith("~", encoded);

        // An attacker who presents "~<hex>" as a client_id, token or key gets the hash of that string, not the key itself.
        Assert.NotEqual(encoded, GrainKeys.Part(encoded));
        Assert.NotEqual(encoded, OAuthKeys.Application(encoded));
        Assert.NotEqual("app-authz/" + encoded, OAuthKeys.ApplicationAuthorizations(encoded));
        Assert.False(GrainKeys.IsVerbatim(encoded));
    }

    public static TheoryData<string> ExistingKeys => new()
    {
        "dvc-" + new string('a', 48),            // a dynamic registration client_id
        Guid.NewGuid().ToString("N"),            // an authorization or token id
        "default",                               // a tenant, the OAuth subject
        "203.0.113.7",                           // an IPv4 rate-limit key
        "unknown",
        new string('x', GrainKeys.MaxVerbatimLength),
        // The store's reference id: base64url of the manager's Base64(SHA-256) obfuscation, 60 characters.
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(Convert.ToBase64String(SHA256.HashData("reference"u8)))),
    };

    [Theory]
    [MemberData(nameof(ExistingKeys))]
    public void Keys_that_were_already_safe_stay_as_they_are_so_embedded_data_keeps_its_rows(string key)
    {
        Assert.True(GrainKeys.IsVerbatim(key));
        Assert.Equal(key, GrainKeys.Part(key));
        Assert.Equal(key, OAuthKeys.Application(key));
        Assert.Equal("subject-authz/" + key, OAuthKeys.SubjectAuthorizations(key));
        Assert.Equal("authz-tokens/" + key, OAuthKeys.AuthorizationTokens(key));
        Assert.Equal("rl/" + key, GrainKeys.RateLimit("rl", key));
    }

    [Fact]
    public void A_reference_id_key_is_unchanged_from_before_the_encoding()
    {
        var obfuscated = Convert.ToBase64String(SHA256.HashData("some token"u8)); // holds '/', '+' or '=' in general
        Assert.Equal(Base64Url.EncodeToString(Encoding.UTF8.GetBytes(obfuscated)), OAuthKeys.TokenReference(obfuscated));
    }

    public static TheoryData<string> UnsafeKeys => new()
    {
        "",
        "2001:db8:1:2::/64",
        "a b",
        "tab\there",
        "line\nbreak",
        "ü",
        "~",
        new string('x', GrainKeys.MaxVerbatimLength + 1),
        new string('/', 5_000),
    };

    [Theory]
    [MemberData(nameof(UnsafeKeys))]
    public void Anything_else_is_hashed_and_every_key_stays_far_under_the_provider_limit(string key)
    {
        Assert.False(GrainKeys.IsVerbatim(key));
        var part = GrainKeys.Part(key);
        Assert.Matches("^~[0-9a-f]{64}$", part);

        foreach (var (type, grainKey) in new[]
        {
            ("oauth-app", OAuthKeys.Application(key)),
            ("oauth-token", OAuthKeys.Entity(key)),
            ("oauth-token-ref", OAuthKeys.TokenReference(key)),
            ("oauth-index", OAuthKeys.SubjectAuthorizations(key)),
            ("oauth-index", OAuthKeys.ApplicationTokens(key)),
            ("ratelimit", GrainKeys.RateLimit("signin-fail-tenant", key)),
        })
            Assert.True(AzurePartitionKey(type, grainKey).Length < 256, $"{type}/{grainKey}");
    }

    [Fact]
    public void Two_ipv6_prefixes_that_sanitize_alike_get_different_rate_limit_rows()
    {
        // "/64" holds the one character the provider replaces; a raw "…::_64" key from elsewhere would have met it.
        var prefix = GrainKeys.RateLimit("auth-fail-ip", "2001:db8::/64");
        var lookAlike = GrainKeys.RateLimit("auth-fail-ip", "2001:db8::_64");
        Assert.NotEqual(AzurePartitionKey("ratelimit", prefix), AzurePartitionKey("ratelimit", lookAlike));
    }
}
