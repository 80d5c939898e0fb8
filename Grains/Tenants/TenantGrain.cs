using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Grains.Security;
using Dovecote.Grains.Storage;

namespace Dovecote.Grains.Tenants;

/// <summary>
/// One tenant: profile, limits, password hash, channel index, the list of its API keys and its env profiles (encrypted).
/// Bad input throws <see cref="ArgumentException"/> with the reason; a missing tenant throws <see cref="NotFoundException"/>.
/// </summary>
[GrainType("tenant")]
public sealed partial class TenantGrain(
    [PersistentState("tenant")] IPersistentState<TenantState> state,
    SecretProtector secrets,
    IOptions<TenantOptions> options,
    TimeProvider time,
    ILogger<TenantGrain> logger) : Grain, ITenantGrain
{
    private const int MaxDisplayName = 100;
    private const int MinPassword = 8;
    private const int MaxPassword = 200;
    private const int MaxKeyName = 100;
    private const int MaxSuspendedReason = 200;
    private const int KeyIdLength = 12;
    private const string KeyIdAlphabet = "abcdefghijklmnopqrstuvwxyz234567";
    private const int MaxEnvProfiles = 20;
    private const int MaxEnvValues = 100;
    private const int MaxEnvValueBytes = 8 * 1024;
    /// <summary>
    /// All profiles together, encrypted (base64, a byte a character): the whole state is rewritten on every change and must
    /// fit one Azure Table entity with room to spare, so the tenant state stays under 256 KiB (docs/architecture.md).
    /// </summary>
    public const int MaxEnvStoredChars = 192 * 1024;

    private string Tenant => this.GetPrimaryKeyString();

    /// <summary>What list_channels reads; told (one-way) of every channel this tenant lists or drops.</summary>
    private IChannelBoardGrain Board => GrainFactory.GetGrain<IChannelBoardGrain>(Tenant);

    Task<TenantInfo> ITenantGrain.UpsertAsync(string displayName, string? password) => UpsertAsync(displayName, password, null);

    Task<TenantInfo> ITenantGrain.UpsertAsync(string displayName, string? password, TenantLimitOverrides? limits) =>
        UpsertAsync(displayName, password, limits);

    private TenantLimits Limits => options.Value.Effective(state.State.Limits);

    private async Task<TenantInfo> UpsertAsync(string displayName, string? password, TenantLimitOverrides? limits)
    {
        if (!GrainKeys.IsValidTenant(Tenant))
            throw new ArgumentException("a tenant id is 1 to 63 lowercase letters, digits and '-', starting with a letter or digit");
        if (string.IsNullOrWhiteSpace(displayName) || displayName.Length > MaxDisplayName)
            throw new ArgumentException($"displayName must be 1 to {MaxDisplayName} characters");
        if (password is { Length: < MinPassword or > MaxPassword })
            throw new ArgumentException($"password must be {MinPassword} to {MaxPassword} characters");
        if (limits is not null && TenantOptions.Problem(limits) is { } problem) throw new ArgumentException(problem);
        // Listed before it is written, like its channels: a listed tenant whose write failed is skipped by the list, never missing from it.
        await GrainFactory.GetGrain<ITenantDirectoryGrain>(GrainKeys.TenantDirectoryShard(Tenant)).AddAsync(Tenant);

        var created = !state.State.Exists;
        if (created)
        {
            state.State.Exists = true;
            state.State.CreatedAt = time.GetUtcNow();
        }
        state.State.DisplayName = displayName;
        if (password is not null) state.State.PasswordHash = PasswordHash.Create(password);
        // A lower limit never removes what exists: it refuses new channels, keys and grants until the tenant is under it.
        if (limits is not null) state.State.Limits = limits;
        await state.WriteOrReloadAsync(this);
        logger.LogInformation("Tenant {Tenant} {Change}; password {Password}", Tenant, created ? "created" : "updated", password is null ? "kept" : "set");
        return Info();
    }

    async Task<TenantInfo> ITenantGrain.CreateAsync(string displayName, string createdBy)
    {
        if (string.IsNullOrEmpty(createdBy) || createdBy.Length > 200) throw new ArgumentException("createdBy must be 1 to 200 characters");
        if (state.State.Exists)
            return state.State.CreatedBy == createdBy ? Info() : throw new ArgumentException($"tenant '{Tenant}' exists already");
        state.State.CreatedBy = createdBy;
        return await UpsertAsync(displayName, null, null);
    }

    Task<TenantInfo?> ITenantGrain.GetAsync() => Task.FromResult(state.State.Exists ? Info() : null);

    Task<TenantLimits> ITenantGrain.GetLimitsAsync() => Task.FromResult(Limits);

    Task<bool> ITenantGrain.VerifyPasswordAsync(string password)
    {
        // Always hashes (against a dummy when nothing is stored), so an unknown tenant answers no faster than a wrong password.
        var candidate = password is { Length: <= MaxPassword } ? password : "";
        return Task.FromResult(PasswordHash.Verify(candidate, state.State.Exists ? state.State.PasswordHash : null));
    }

    async Task<TenantInfo> ITenantGrain.SetSuspensionAsync(string? reason)
    {
        EnsureExists();
        if (reason is not null && (string.IsNullOrWhiteSpace(reason) || reason.Length > MaxSuspendedReason || reason.Any(char.IsControl)))
            throw new ArgumentException($"a suspension reason is 1 to {MaxSuspendedReason} characters on one line");
        state.State.SuspendedReason = reason?.Trim();
        await state.WriteOrReloadAsync(this);
        logger.LogInformation("Tenant {Tenant} {Change}", Tenant, reason is null ? "unsuspended" : "suspended");
        return Info();
    }

    Task<string?> ITenantGrain.GetSuspensionAsync() => Task.FromResult(state.State.Exists ? state.State.SuspendedReason : null);

    async Task ITenantGrain.AddChannelAsync(string channelId)
    {
        EnsureExists();
        if (!GrainKeys.IsValidChannelId(channelId))
            throw new ArgumentException("a channel id is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit");
        var at = state.State.ChannelIds.BinarySearch(channelId, StringComparer.Ordinal);
        if (at < 0)
        {
            if (state.State.ChannelIds.Count >= Limits.Channels)
                throw new ArgumentException($"tenant '{Tenant}' may have {Limits.Channels} channels and has {state.State.ChannelIds.Count}; delete one first");
            state.State.ChannelIds.Insert(~at, channelId);
            await state.WriteOrReloadAsync(this);
        }
        using var scope = TenantContext.Enter(Tenant);
        await Board.ListedAsync(channelId); // one-way, and again for a listed id: the board may have missed it
    }

    async Task ITenantGrain.RemoveChannelAsync(string channelId)
    {
        EnsureExists();
        if (channelId is null) return;
        var at = state.State.ChannelIds.BinarySearch(channelId, StringComparer.Ordinal);
        if (at < 0) return;
        state.State.ChannelIds.RemoveAt(at);
        await state.WriteOrReloadAsync(this);
        using var scope = TenantContext.Enter(Tenant);
        await Board.UnlistedAsync(channelId); // one-way
    }

    Task<IReadOnlyList<string>> ITenantGrain.GetChannelIdsAsync()
    {
        EnsureExists();
        return Task.FromResult<IReadOnlyList<string>>(state.State.ChannelIds.ToList());
    }

    async Task<CreatedApiKey> ITenantGrain.CreateApiKeyAsync(string? name)
    {
        EnsureExists();
        if (string.IsNullOrWhiteSpace(name)) name = null;
        if (name is { Length: > MaxKeyName })
            throw new ArgumentException($"an API key name is at most {MaxKeyName} characters");
        if (state.State.ApiKeys.Count >= Limits.ApiKeys)
            throw new ArgumentException($"tenant '{Tenant}' may have {Limits.ApiKeys} API keys and has {state.State.ApiKeys.Count}; revoke one first");

        // 12 characters of 32 give 60 bits: a collision is refused by the key grain rather than silently re-bound.
        var keyId = RandomNumberGenerator.GetString(KeyIdAlphabet, KeyIdLength);
        var secret = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var entry = new ApiKeyEntry(keyId, name, $"{ApiKeyFormat.Prefix}{keyId}_", time.GetUtcNow());

        // The lookup is registered before the tenant lists the key. If the write below fails, the lookup is an orphan
        // whose secret was never handed out, so it can never verify; the other order could list a key that never works.
        await GrainFactory.GetGrain<IApiKeyGrain>(keyId).RegisterAsync(Tenant, SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
        state.State.ApiKeys.Add(entry);
        await state.WriteOrReloadAsync(this);
        logger.LogInformation("Tenant {Tenant}: API key {KeyId} created", Tenant, keyId);
        return new CreatedApiKey(ToInfo(entry), $"{ApiKeyFormat.Prefix}{keyId}_{secret}");
    }

    Task<IReadOnlyList<ApiKeyInfo>> ITenantGrain.ListApiKeysAsync()
    {
        EnsureExists();
        return Task.FromResult<IReadOnlyList<ApiKeyInfo>>(state.State.ApiKeys.Select(ToInfo).ToList());
    }

    async Task<bool> ITenantGrain.RevokeApiKeyAsync(string keyId)
    {
        EnsureExists();
        // Only this tenant's own keys: a key id from elsewhere is "unknown", never revoked on another tenant's behalf.
        var entry = state.State.ApiKeys.Find(k => k.KeyId == keyId);
        if (entry is null) return false;

        // Revoke where keys are verified first: should the write below fail, the key is already dead and a retry tidies the list.
        await GrainFactory.GetGrain<IApiKeyGrain>(keyId).RevokeAsync();
        state.State.ApiKeys.Remove(entry);
        await state.WriteOrReloadAsync(this);
        logger.LogInformation("Tenant {Tenant}: API key {KeyId} revoked", Tenant, keyId);
        return true;
    }

    async Task ITenantGrain.SetEnvProfileAsync(string profile, IReadOnlyDictionary<string, string> values)
    {
        EnsureExists();
        if (EnvProblem(profile, values) is { } problem) throw new ArgumentException(problem);
        if (!state.State.EnvProfiles.ContainsKey(profile) && state.State.EnvProfiles.Count >= MaxEnvProfiles)
            throw new ArgumentException($"tenant '{Tenant}' already has {MaxEnvProfiles} env profiles");

        var protectedJson = secrets.Protect(JsonSerializer.Serialize(values), EnvBinding(profile));
        var stored = state.State.EnvProfiles.Where(p => p.Key != profile).Sum(p => (long)p.Value.Length) + protectedJson.Length;
        if (stored > MaxEnvStoredChars)
            throw new ArgumentException($"the env profiles of tenant '{Tenant}' would exceed {MaxEnvStoredChars / 1024} KiB together once encrypted");

        state.State.EnvProfiles[profile] = protectedJson;
        await state.WriteOrReloadAsync(this);
        logger.LogInformation("Tenant {Tenant}: env profile {Profile} set ({Count} values)", Tenant, profile, values.Count);
    }

    Task<IReadOnlyDictionary<string, string>?> ITenantGrain.GetEnvProfileAsync(string profile)
    {
        EnsureExists();
        if (profile is null || !state.State.EnvProfiles.TryGetValue(profile, out var protectedJson))
            return Task.FromResult<IReadOnlyDictionary<string, string>?>(null);
        var values = JsonSerializer.Deserialize<Dictionary<string, string>>(secrets.Unprotect(protectedJson, EnvBinding(profile)));
        return Task.FromResult<IReadOnlyDictionary<string, string>?>(values);
    }

    /// <summary>Bound into the ciphertext, so a profile copied to another tenant or name does not decrypt.</summary>
    private string EnvBinding(string profile) => $"{Tenant}/env/{profile}";

    /// <summary>The first thing wrong with an env profile, or null. Never quotes a value.</summary>
    private static string? EnvProblem(string profile, IReadOnlyDictionary<string, string> values)
    {
        if (profile is null || !EnvProfilePattern().IsMatch(profile))
            return "an env profile name is 1 to 64 letters, digits, '.', '_' or '-'";
        if (values is null) return "values are required";
        if (values.Count > MaxEnvValues) return $"an env profile holds at most {MaxEnvValues} values";
        foreach (var (key, value) in values)
        {
            if (key is null || !EnvKeyPattern().IsMatch(key))
                return "variable names are 1 to 128 letters, digits and '_', not starting with a digit";
            if (value is null) return $"{key} has no value";
            if (Encoding.UTF8.GetByteCount(value) > MaxEnvValueBytes) return $"the value of {key} is longer than 8 KiB";
        }
        return null;
    }

    private void EnsureExists()
    {
        if (!state.State.Exists) throw new NotFoundException($"tenant '{Tenant}' does not exist");
    }

    private TenantInfo Info() => new(
        Tenant, state.State.DisplayName, state.State.PasswordHash is not null, state.State.ChannelIds.Count, state.State.ApiKeys.Count,
        state.State.EnvProfiles.Keys.Order(StringComparer.Ordinal).ToList(), state.State.CreatedAt, Limits,
        state.State.SuspendedReason);

    private static ApiKeyInfo ToInfo(ApiKeyEntry entry) => new(entry.KeyId, entry.Name, entry.Prefix, entry.CreatedAt);

    // \z, not $: "$" would also accept a trailing newline.
    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,64}\z")]
    private static partial Regex EnvProfilePattern();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]{0,127}\z")]
    private static partial Regex EnvKeyPattern();
}
