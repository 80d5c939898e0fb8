using Dovecote.Api;
using Microsoft.AspNetCore.Builder;

namespace Dovecote.Tests.Hosting;

/// <summary>A bad value of a documented variable stops start-up, and the message names the variable (never a secret's value).</summary>
public sealed class StartUpRefusalTests : IDisposable
{
    private const string SixteenBytes = "AAAAAAAAAAAAAAAAAAAAAA==";
    private const string NotAnRsaKey = "-----BEGIN PRIVATE KEY-----\\nbm90IGEga2V5\\n-----END PRIVATE KEY-----";
    private static readonly HashSet<string> Secrets =
        [
            "DOVECOTE_SECRETS_KEY", "DOVECOTE_AZURE_STORAGE", "DOVECOTE_REDIS", "DOVECOTE_OAUTH_SIGNING_KEY", "DOVECOTE_OAUTH_ENCRYPTION_KEY",
            "COOKIE_ENCRYPTION_KEY", "OAUTH_PASSWORD", "ADMIN_TOKEN", "ADMIN_REVOKE_TOKEN", "DOVECOTE_API_KEYS",
            "DOVECOTE_GITHUB_CLIENT_SECRET", "DOVECOTE_OIDC_CLIENT_SECRET",
        ];
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("dovecote-refusal-").FullName;

    [Theory]
    [InlineData("DOVECOTE_PUBLIC_URL", "notify.example.com", "DOVECOTE_PUBLIC_URL must be an absolute http(s) URL")]
    [InlineData("DOVECOTE_PUBLIC_URL", "https://notify.example.com/dovecote", "DOVECOTE_PUBLIC_URL must be an origin with no path, query or fragment")]
    [InlineData("DOVECOTE_GATEWAYS", "127.0.0.1:30000,silo-2:30000", "DOVECOTE_GATEWAYS: 'silo-2:30000' is not an ip:port gateway address")]
    [InlineData("DOVECOTE_GATEWAYS", ",", "DOVECOTE_GATEWAYS lists no ip:port gateway address")]
    [InlineData("OAUTH_PASSWORD", "short", "OAUTH_PASSWORD must be at least 8 characters")]
    [InlineData("ADMIN_TOKEN", "admin-token-of-31-characters-xx", "ADMIN_TOKEN must be at least 32 characters (it has 31)")]
    [InlineData("ADMIN_REVOKE_TOKEN", "short-admin", "ADMIN_REVOKE_TOKEN must be at least 32 characters")]
    [InlineData("DOVECOTE_API_KEYS", "api-key-of-exactly-32-characters, dev-key", "DOVECOTE_API_KEYS: every key must be at least 32 characters (key 2 has 7)")]
    [InlineData("DOVECOTE_SECRETS_KEY", SixteenBytes, "DOVECOTE_SECRETS_KEY must be the base64 of 32 bytes")]
    [InlineData("DOVECOTE_OAUTH_SIGNING_KEY", NotAnRsaKey, "DOVECOTE_OAUTH_SIGNING_KEY must be the PEM of an RSA private key of 2048 bits or more")]
    [InlineData("DOVECOTE_OAUTH_ENCRYPTION_KEY", SixteenBytes, "DOVECOTE_OAUTH_ENCRYPTION_KEY must be the base64 of 32 bytes")]
    [InlineData("COOKIE_ENCRYPTION_KEY", SixteenBytes, "COOKIE_ENCRYPTION_KEY must be the base64 of at least 32 bytes")]
    [InlineData("ENABLE_CLIENT_BOOTSTRAP", "yes", "ENABLE_CLIENT_BOOTSTRAP must be 1 or true")]
    [InlineData("DOVECOTE_TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal", "DOVECOTE_TRUSTED_PROXIES: 'proxy.internal' is not an IP address or CIDR network")]
    [InlineData("DOVECOTE_SILO_PORT", "0", "DOVECOTE_SILO_PORT must be between 1 and 65535")]
    [InlineData("DOVECOTE_CLUSTERING", "kubernetes", "DOVECOTE_CLUSTERING must be localhost, azure or redis")]
    [InlineData("DOVECOTE_CLUSTERING", "azure", "DOVECOTE_AZURE_STORAGE is required when DOVECOTE_CLUSTERING is azure")]
    [InlineData("DOVECOTE_CLUSTERING", "redis", "DOVECOTE_REDIS is required when DOVECOTE_CLUSTERING is redis")]
    [InlineData(
        "DOVECOTE_AZURE_STORAGE",
        "AccountName=acme;AccountKey=c2VjcmV0LWtleS12YWx1ZQ==;Nonsense",
        "DOVECOTE_AZURE_STORAGE is not a valid connection string")]
    [InlineData("DOVECOTE_REDIS", "redis:6379,password=hunter2-secret,frobnicate=1", "DOVECOTE_REDIS is not a valid connection string")]
    [InlineData("DOVECOTE_SERVICE_ID", "dove:cote", "DOVECOTE_SERVICE_ID must be 1 to 64 letters, digits and dashes")]
    [InlineData("DOVECOTE_ADVERTISED_IP", "silo-0.dovecote", "DOVECOTE_ADVERTISED_IP must be an IP address (the pod IP)")]
    [InlineData("DOVECOTE_ALLOW_PRIVATE_TARGETS", "sometimes", "DOVECOTE_ALLOW_PRIVATE_TARGETS")]
    [InlineData("TELEGRAM_API_BASE_URL", "api.telegram.org", "TELEGRAM_API_BASE_URL")]
    [InlineData("Delivery:MaxAttempts", "0", "Delivery__MaxAttempts must be between 1 and 100")]
    [InlineData("OAuth:AccessTokenLifetime", "00:00:00", "OAuth__AccessTokenLifetime must be between")]
    [InlineData("OAuth:TokenStatusCacheLifetime", "00:00:06", "OAuth__TokenStatusCacheLifetime must be between")]
    [InlineData("OAuth:TokenStatusCacheEntries", "10", "OAuth__TokenStatusCacheEntries must be between")]
    [InlineData("DOVECOTE_GITHUB_CLIENT_ID", "Ov23liFakeClientId", "DOVECOTE_GITHUB_CLIENT_ID is set but DOVECOTE_GITHUB_CLIENT_SECRET is not")]
    [InlineData("DOVECOTE_OIDC_AUTHORITY", "https://login.example.com", "DOVECOTE_OIDC_AUTHORITY and DOVECOTE_OIDC_CLIENT_ID must be set together")]
    [InlineData("DOVECOTE_GOOGLE_CLIENT_ID", "1234-fake.apps.googleusercontent.com", "DOVECOTE_GOOGLE_CLIENT_ID is set but DOVECOTE_GOOGLE_CLIENT_SECRET is not")]
    [InlineData("DOVECOTE_MICROSOFT_CLIENT_ID", "00000000-0000-4000-8000-00000000fa4e", "DOVECOTE_MICROSOFT_CLIENT_ID is set but DOVECOTE_MICROSOFT_CLIENT_SECRET is not")]
    [InlineData("DOVECOTE_MICROSOFT_TENANT", "contoso/../common", "DOVECOTE_MICROSOFT_TENANT must be common, organizations, consumers, a tenant id or a tenant domain")]
    [InlineData("DOVECOTE_SIGNUP", "maybe", "DOVECOTE_SIGNUP")]
    [InlineData("DOVECOTE_SESSION_LIFETIME", "00:00:01", "DOVECOTE_SESSION_LIFETIME must be 5 minutes to 30 days")]
    public async Task A_bad_value_stops_start_up_naming_the_variable(string variable, string value, string message)
    {
        var error = await StartUpErrorAsync(variable, value);

        Assert.Contains(message, error);
        if (Secrets.Contains(variable)) Assert.DoesNotContain(value, error);
    }

    [Theory]
    [InlineData("ENABLE_CLIENT_BOOTSTRAP", "TRUE")]
    [InlineData("ENABLE_CLIENT_BOOTSTRAP", "0")]
    [InlineData("OAUTH_PASSWORD", "")]
    [InlineData("ADMIN_TOKEN", "admin-token-of-exactly-32-chars!")]
    [InlineData("ADMIN_TOKEN", "")]
    [InlineData("DOVECOTE_API_KEYS", "api-key-of-exactly-32-characters, another-key-of-32-characters-xxx")]
    [InlineData("DOVECOTE_PUBLIC_URL", "https://notify.example.com/")]
    public async Task Accepted_values_build_the_host(string variable, string value)
    {
        await using var app = DovecoteApi.Create(Arguments(variable, value));
    }

    /// <summary>Both stages an operator meets: building the host (values needed for clustering and OAuth) and starting it.</summary>
    private async Task<string> StartUpErrorAsync(string variable, string value)
    {
        WebApplication? app = null;
        try
        {
            app = DovecoteApi.Create(Arguments(variable, value));
            await app.StartAsync(TestContext.Current.CancellationToken);
        }
        catch (AggregateException e)
        {
            return string.Join("; ", e.InnerExceptions.Select(i => i.Message));
        }
        catch (Exception e) when (e is InvalidOperationException or Microsoft.Extensions.Options.OptionsValidationException)
        {
            return e.Message;
        }
        finally
        {
            if (app is not null) await app.DisposeAsync();
        }
        Assert.Fail($"the Api started with {variable}={value}");
        return "";
    }

    private string[] Arguments(string variable, string value) => LoopbackApiArguments.For(_dataDirectory, $"--{variable}={value}");

    public void Dispose() => Directory.Delete(_dataDirectory, recursive: true);
}
