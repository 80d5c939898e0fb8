using System.Security.Cryptography;
using System.Text;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Grains.Storage;

namespace Dovecote.Grains.Tenants;

/// <summary>
/// Answers "which tenant does this key belong to?" from the key id alone, so a bearer key is verified with one
/// grain call and no scan. A fast hash suffices: the secret is 256 random bits, not a password.
/// </summary>
[GrainType("apikey")]
public sealed class ApiKeyGrain(
    [PersistentState("apikey")] IPersistentState<ApiKeyState> state,
    TimeProvider time,
    ILogger<ApiKeyGrain> logger) : Grain, IApiKeyGrain
{
    private string KeyId => this.GetPrimaryKeyString();
    private ApiKeyState S => state.State;

    async Task IApiKeyGrain.RegisterAsync(string tenant, byte[] secretHash)
    {
        if (!GrainKeys.IsValidTenant(tenant)) throw new ArgumentException("tenant is not a valid tenant id");
        if (secretHash is not { Length: SHA256.HashSizeInBytes }) throw new ArgumentException("secretHash must be a SHA-256 hash (32 bytes)");
        if (S.Tenant is not null)
        {
            // A retried registration is harmless; any other re-bind would let a key id answer for another tenant or secret.
            if (S.Tenant == tenant && !S.Revoked && CryptographicOperations.FixedTimeEquals(S.SecretHash, secretHash)) return;
            throw new InvalidOperationException($"API key id '{KeyId}' is already registered");
        }

        S.Tenant = tenant;
        S.SecretHash = secretHash.ToArray();
        S.Revoked = false;
        S.CreatedAt = time.GetUtcNow();
        await state.WriteOrReloadAsync(this);
    }

    Task<string?> IApiKeyGrain.VerifyAsync(string secret)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(secret ?? ""));
        var matches = CryptographicOperations.FixedTimeEquals(hash, S.SecretHash);
        return Task.FromResult(matches && !S.Revoked ? S.Tenant : null);
    }

    async Task IApiKeyGrain.RevokeAsync()
    {
        if (S.Tenant is null || S.Revoked) return;
        S.Revoked = true;
        S.SecretHash = []; // nothing left to guess against
        await state.WriteOrReloadAsync(this);
        logger.LogInformation("API key {KeyId} of tenant {Tenant} revoked", KeyId, S.Tenant);
    }

}
