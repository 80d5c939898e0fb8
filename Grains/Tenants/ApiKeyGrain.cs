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

    async Task IApiKeyGrain.RegisterAsync(string tenant, byte[] secretHash)
    {
        if (!GrainKeys.IsValidTenant(tenant)) throw new ArgumentException("tenant is not a valid tenant id");
        if (secretHash is not { Length: SHA256.HashSizeInBytes }) throw new ArgumentException("secretHash must be a SHA-256 hash (32 bytes)");
        if (state.State.Tenant is not null)
        {
            // A retried registration is harmless; any other re-bind would let a key id answer for another tenant or secret.
            if (state.State.Tenant == tenant && !state.State.Revoked && CryptographicOperations.FixedTimeEquals(state.State.SecretHash, secretHash)) return;
            throw new InvalidOperationException($"API key id '{KeyId}' is already registered");
        }

        state.State.Tenant = tenant;
        state.State.SecretHash = secretHash.ToArray();
        state.State.Revoked = false;
        state.State.CreatedAt = time.GetUtcNow();
        await state.WriteOrReloadAsync(this);
    }

    Task<string?> IApiKeyGrain.VerifyAsync(string secret)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(secret ?? ""));
        var matches = CryptographicOperations.FixedTimeEquals(hash, state.State.SecretHash);
        return Task.FromResult(matches && !state.State.Revoked ? state.State.Tenant : null);
    }

    async Task IApiKeyGrain.RevokeAsync()
    {
        if (state.State.Tenant is null || state.State.Revoked) return;
        state.State.Revoked = true;
        state.State.SecretHash = []; // nothing left to guess against
        await state.WriteOrReloadAsync(this);
        logger.LogInformation("API key {KeyId} of tenant {Tenant} revoked", KeyId, state.State.Tenant);
    }

}
