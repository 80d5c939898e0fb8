using Dovecote.Grains.Interfaces.Tenants;

namespace Dovecote.Tests.Tenants;

[Collection(GrainClusterCollection.Name)]
public sealed class TenantGrainTests(GrainClusterFixture fx)
{
    private const string Password = "correct horse battery staple";

    private ITenantGrain Tenant(string tenant) => fx.Client.GetGrain<ITenantGrain>(tenant);

    [Fact]
    public async Task Upsert_creates_the_tenant_then_updates_its_profile()
    {
        var tenant = GrainClusterFixture.UniqueTenant("up");
        using var scope = TenantContext.Enter(tenant);
        var grain = Tenant(tenant);
        Assert.Null(await grain.GetAsync());

        var created = await grain.UpsertAsync("Acme", null);
        var updated = await grain.UpsertAsync("Acme Corp", null);

        Assert.Equal(tenant, created.Tenant);
        Assert.False(created.HasPassword);
        Assert.InRange(created.CreatedAt, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow);
        Assert.Equal("Acme Corp", updated.DisplayName);
        Assert.Equal(created.CreatedAt, updated.CreatedAt);
        Assert.Equal(updated with { EnvProfiles = [] }, (await grain.GetAsync())! with { EnvProfiles = [] });
    }

    [Fact]
    public async Task Password_verifies_only_when_right_and_is_stored_as_a_pbkdf2_hash()
    {
        var tenant = GrainClusterFixture.UniqueTenant("pw");
        using var scope = TenantContext.Enter(tenant);
        var grain = Tenant(tenant);
        Assert.False(await grain.VerifyPasswordAsync(Password)); // no such tenant

        await grain.UpsertAsync("Acme", null);
        Assert.False(await grain.VerifyPasswordAsync(Password)); // no password set

        Assert.True((await grain.UpsertAsync("Acme", Password)).HasPassword);
        Assert.True(await grain.VerifyPasswordAsync(Password));
        Assert.False(await grain.VerifyPasswordAsync(Password + "!"));
        Assert.False(await grain.VerifyPasswordAsync(""));

        await grain.UpsertAsync("Acme renamed", null); // a null password keeps the current one
        Assert.True(await grain.VerifyPasswordAsync(Password));

        var row = Assert.Single(fx.StoredText("state/"), r => r.Key.EndsWith($"/tenant/{tenant}", StringComparison.Ordinal)).Text;
        Assert.Contains("pbkdf2-sha256$100000$", row);
        Assert.DoesNotContain("horse", row);
    }

    [Fact]
    public async Task Verifying_a_password_does_not_create_the_tenant()
    {
        var tenant = GrainClusterFixture.UniqueTenant("ghost");
        using var scope = TenantContext.Enter(tenant);

        Assert.False(await Tenant(tenant).VerifyPasswordAsync(Password));

        Assert.Null(await Tenant(tenant).GetAsync());
    }

    [Fact]
    public async Task Bad_profile_input_is_refused_with_the_reason_and_without_the_secret()
    {
        var tenant = GrainClusterFixture.UniqueTenant("bad");
        using var scope = TenantContext.Enter(tenant);
        var grain = Tenant(tenant);

        Assert.Contains("displayName", (await Assert.ThrowsAsync<ArgumentException>(() => grain.UpsertAsync("", null))).Message);
        Assert.Contains("displayName", (await Assert.ThrowsAsync<ArgumentException>(() => grain.UpsertAsync(new string('x', 101), null))).Message);
        var tooShort = await Assert.ThrowsAsync<ArgumentException>(() => grain.UpsertAsync("Acme", "s3cr3t!"));
        Assert.Contains("password must be 8 to 200 characters", tooShort.Message);
        Assert.DoesNotContain("s3cr3t!", tooShort.ToString());
        Assert.Contains("password", (await Assert.ThrowsAsync<ArgumentException>(() => grain.UpsertAsync("Acme", new string('p', 201)))).Message);
        Assert.Null(await grain.GetAsync()); // nothing was created by the refused calls
    }

    [Fact]
    public async Task Operations_on_a_missing_tenant_say_it_does_not_exist()
    {
        var tenant = GrainClusterFixture.UniqueTenant("none");
        using var scope = TenantContext.Enter(tenant);
        var grain = Tenant(tenant);

        // NotFoundException crosses the silo boundary as itself: the admin API maps exactly this type to 404.
        var error = await Assert.ThrowsAsync<NotFoundException>(() => grain.AddChannelAsync("tg"));
        Assert.Equal($"tenant '{tenant}' does not exist", error.Message);
        await Assert.ThrowsAsync<NotFoundException>(() => grain.CreateApiKeyAsync(null));
        await Assert.ThrowsAsync<NotFoundException>(() => grain.SetEnvProfileAsync("prod", new Dictionary<string, string>()));
        await Assert.ThrowsAsync<NotFoundException>(() => grain.GetChannelIdsAsync());
    }

    [Fact]
    public async Task Upsert_lists_the_tenant_once_in_its_directory_shard()
    {
        var tenant = GrainClusterFixture.UniqueTenant("dir");
        var shard = fx.Client.GetGrain<ITenantDirectoryGrain>(GrainKeys.TenantDirectoryShard(tenant));
        using (TenantContext.Enter(tenant))
        {
            Assert.False(await Tenant(tenant).VerifyPasswordAsync(Password)); // reading a tenant does not list it
            Assert.DoesNotContain(tenant, await shard.ListAsync(null, int.MaxValue));

            await Tenant(tenant).UpsertAsync("Acme", null);
            await Tenant(tenant).UpsertAsync("Acme Corp", null);
        }

        Assert.Single(await shard.ListAsync(null, int.MaxValue), t => t == tenant);
    }

    [Fact]
    public async Task A_directory_shard_pages_in_ordinal_order_after_any_cursor()
    {
        var shard = fx.Client.GetGrain<ITenantDirectoryGrain>($"test-{Guid.NewGuid():N}"); // a shard of its own
        foreach (var tenant in new[] { "c", "a-2", "b", "a-10", "b" })
            await shard.AddAsync(tenant);

        Assert.Equal(["a-10", "a-2", "b", "c"], await shard.ListAsync(null, 10));
        Assert.Equal(["a-10", "a-2"], await shard.ListAsync(null, 2));
        Assert.Equal(["b", "c"], await shard.ListAsync("a-2", 2));
        Assert.Equal(["b"], await shard.ListAsync("a-3", 1)); // a cursor need not be listed
        Assert.Empty(await shard.ListAsync("c", 10));
        Assert.Contains("tenant id", (await Assert.ThrowsAsync<ArgumentException>(() => shard.AddAsync("Not/A/Tenant"))).Message);
    }

    [Fact]
    public void Directory_shards_come_from_a_hash_that_never_changes()
    {
        // Pinned: a tenant's shard is where it was listed, so a different hash would drop tenants from the list.
        Assert.Equal("7", GrainKeys.TenantDirectoryShard("default"));
        Assert.Equal("2", GrainKeys.TenantDirectoryShard("acme"));
        Assert.Equal("10", GrainKeys.TenantDirectoryShard("zz"));
        Assert.Equal(Enumerable.Range(0, 16).Select(i => i.ToString()), GrainKeys.AllTenantDirectoryShards());
    }

    [Fact]
    public async Task Channel_index_is_sorted_and_idempotent()
    {
        var tenant = GrainClusterFixture.UniqueTenant("ch");
        using var scope = TenantContext.Enter(tenant);
        var grain = Tenant(tenant);
        await grain.UpsertAsync("Acme", null);

        foreach (var id in new[] { "telegram-ops", "discord-1", "telegram-ops", "Slack.main" })
            await grain.AddChannelAsync(id);
        await grain.RemoveChannelAsync("discord-1");
        await grain.RemoveChannelAsync("discord-1");
        await grain.RemoveChannelAsync("never-added");

        Assert.Equal(["Slack.main", "telegram-ops"], await grain.GetChannelIdsAsync());
        Assert.Equal(2, (await grain.GetAsync())!.Channels);
        await Assert.ThrowsAsync<ArgumentException>(() => grain.AddChannelAsync("no/slashes"));
    }

    [Fact]
    public async Task An_api_key_verifies_to_its_tenant_until_revoked()
    {
        var tenant = GrainClusterFixture.UniqueTenant("key");
        using var scope = TenantContext.Enter(tenant);
        var grain = Tenant(tenant);
        await grain.UpsertAsync("Acme", null);

        var created = await grain.CreateApiKeyAsync("ci");

        Assert.True(ApiKeyFormat.TryParse(created.Key, out var keyId, out var secret));
        Assert.Matches("^[a-z2-7]{12}$", keyId);
        Assert.Matches("^[A-Za-z0-9_-]{43}$", secret);
        Assert.Equal(keyId, created.Info.KeyId);
        Assert.Equal($"dvc_{keyId}_", created.Info.Prefix);
        Assert.StartsWith(created.Info.Prefix, created.Key);
        Assert.DoesNotContain(secret, created.ToString());
        await fx.Cluster.DeactivateAsync(grain); // the list comes back from storage
        Assert.Equal([created.Info], await grain.ListApiKeysAsync());

        var lookup = fx.Client.GetGrain<IApiKeyGrain>(keyId);
        Assert.Equal(tenant, await lookup.VerifyAsync(secret));
        Assert.Null(await lookup.VerifyAsync(secret[..^1] + (secret[^1] == 'A' ? 'B' : 'A')));
        Assert.Null(await fx.Client.GetGrain<IApiKeyGrain>("unknownkeyid").VerifyAsync(secret));

        Assert.True(await grain.RevokeApiKeyAsync(keyId));
        Assert.Null(await lookup.VerifyAsync(secret));
        Assert.Empty(await grain.ListApiKeysAsync());
        Assert.False(await grain.RevokeApiKeyAsync(keyId));
        Assert.False(await grain.RevokeApiKeyAsync("unknownkeyid"));
    }

    [Fact]
    public async Task A_tenant_cannot_revoke_another_tenants_key()
    {
        var owner = GrainClusterFixture.UniqueTenant("own");
        var other = GrainClusterFixture.UniqueTenant("oth");
        CreatedApiKey created;
        using (TenantContext.Enter(owner))
        {
            await Tenant(owner).UpsertAsync("Owner", null);
            created = await Tenant(owner).CreateApiKeyAsync(null);
        }
        using (TenantContext.Enter(other))
        {
            await Tenant(other).UpsertAsync("Other", null);
            Assert.False(await Tenant(other).RevokeApiKeyAsync(created.Info.KeyId));
        }

        Assert.True(ApiKeyFormat.TryParse(created.Key, out var keyId, out var secret));
        Assert.Equal(owner, await fx.Client.GetGrain<IApiKeyGrain>(keyId).VerifyAsync(secret));
    }

    [Fact]
    public async Task Neither_the_key_secret_nor_its_hash_is_in_the_tenants_state()
    {
        var tenant = GrainClusterFixture.UniqueTenant("leak");
        using var scope = TenantContext.Enter(tenant);
        await Tenant(tenant).UpsertAsync("Acme", null);

        var created = await Tenant(tenant).CreateApiKeyAsync("deploy");

        Assert.True(ApiKeyFormat.TryParse(created.Key, out var keyId, out var secret));
        var hash = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret)));
        var hashForms = new[] { hash, System.Text.Json.JsonSerializer.Serialize(hash)[1..^1] }; // raw and JSON-escaped ('+' → \u002B)
        var stored = fx.StoredText();
        Assert.DoesNotContain(stored, row => row.Text.Contains(secret, StringComparison.Ordinal));
        var tenantRow = Assert.Single(
            stored,
            r => r.Key.StartsWith("state/", StringComparison.Ordinal) && r.Key.EndsWith($"/tenant/{tenant}", StringComparison.Ordinal));
        Assert.Contains(keyId, tenantRow.Text); // the key is listed ...
        Assert.DoesNotContain(hashForms, tenantRow.Text.Contains); // ... without its hash, which only the key grain holds
        var keyRow = Assert.Single(stored, r => r.Key.EndsWith($"/apikey/{keyId}", StringComparison.Ordinal));
        Assert.Contains(hashForms, keyRow.Text.Contains);
    }

    [Fact]
    public async Task Api_key_names_and_counts_are_bounded()
    {
        var tenant = GrainClusterFixture.UniqueTenant("lim");
        using var scope = TenantContext.Enter(tenant);
        var grain = Tenant(tenant);
        await grain.UpsertAsync("Acme", null);

        Assert.Contains("name", (await Assert.ThrowsAsync<ArgumentException>(() => grain.CreateApiKeyAsync(new string('n', 101)))).Message);
        Assert.Null((await grain.CreateApiKeyAsync("  ")).Info.Name);
    }

    [Fact]
    public async Task Env_profile_round_trips_and_is_encrypted_at_rest()
    {
        var tenant = GrainClusterFixture.UniqueTenant("env");
        using var scope = TenantContext.Enter(tenant);
        var grain = Tenant(tenant);
        await grain.UpsertAsync("Acme", null);
        var values = new Dictionary<string, string> { ["API_TOKEN"] = "plaintextsentinel4711", ["_region"] = "eu-west-1", ["EMPTY"] = "" };

        await grain.SetEnvProfileAsync("prod.v2", values);
        await grain.SetEnvProfileAsync("staging", new Dictionary<string, string> { ["A"] = "1" });
        await fx.Cluster.DeactivateAsync(grain); // decrypted from storage, not served from memory

        Assert.Equal(values, await grain.GetEnvProfileAsync("prod.v2"));
        Assert.Null(await grain.GetEnvProfileAsync("missing"));
        var info = (await grain.GetAsync())!;
        Assert.Equal(["prod.v2", "staging"], info.EnvProfiles);
        Assert.DoesNotContain(fx.StoredText(), row => row.Text.Contains("plaintextsentinel4711", StringComparison.Ordinal));

        await grain.SetEnvProfileAsync("prod.v2", new Dictionary<string, string> { ["API_TOKEN"] = "rotated" });
        Assert.Equal(new Dictionary<string, string> { ["API_TOKEN"] = "rotated" }, await grain.GetEnvProfileAsync("prod.v2"));
    }

    [Theory]
    [InlineData("bad name", "A", "x", "profile name")]
    [InlineData("", "A", "x", "profile name")]
    [InlineData("prod\n", "A", "x", "profile name")]
    [InlineData("prod", "1ABC", "x", "variable names")]
    [InlineData("prod", "A-B", "x", "variable names")]
    [InlineData("prod", "TOKEN", null, "longer than 8 KiB")]
    public async Task Bad_env_profiles_are_refused_without_quoting_values(string profile, string key, string? value, string reason)
    {
        var tenant = GrainClusterFixture.UniqueTenant("envbad");
        using var scope = TenantContext.Enter(tenant);
        var grain = Tenant(tenant);
        await grain.UpsertAsync("Acme", null);
        value ??= new string('v', 8 * 1024 + 1);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => grain.SetEnvProfileAsync(profile, new Dictionary<string, string> { [key] = value }));

        Assert.Contains(reason, error.Message);
        Assert.DoesNotContain(value, error.Message);
    }

    [Fact]
    public async Task An_env_profile_holds_at_most_100_values()
    {
        var tenant = GrainClusterFixture.UniqueTenant("envmax");
        using var scope = TenantContext.Enter(tenant);
        var grain = Tenant(tenant);
        await grain.UpsertAsync("Acme", null);

        await grain.SetEnvProfileAsync("full", Enumerable.Range(0, 100).ToDictionary(i => $"V{i}", i => "x"));
        var error = await Assert.ThrowsAsync<ArgumentException>(() => grain.SetEnvProfileAsync(
            "over",
            Enumerable.Range(0, 101).ToDictionary(i => $"V{i}", i => "x")));

        Assert.Contains("at most 100 values", error.Message);
    }

    [Fact]
    public async Task A_call_into_another_tenant_is_refused()
    {
        var victim = GrainClusterFixture.UniqueTenant("victim");
        using (TenantContext.Enter(victim))
            await Tenant(victim).UpsertAsync("Victim", Password);

        using (TenantContext.Enter(GrainClusterFixture.UniqueTenant("intruder")))
        {
            await Assert.ThrowsAsync<TenantIsolationException>(() => Tenant(victim).GetAsync());
            await Assert.ThrowsAsync<TenantIsolationException>(() => Tenant(victim).GetEnvProfileAsync("prod"));
            await Assert.ThrowsAsync<TenantIsolationException>(() => Tenant(victim).VerifyPasswordAsync(Password));
        }
        await Assert.ThrowsAsync<TenantIsolationException>(() => Tenant(victim).CreateApiKeyAsync(null)); // no tenant at all
    }

    [Fact]
    public async Task Limits_survive_deactivation_and_a_lowered_limit_refuses_new_channels_but_keeps_the_existing_ones()
    {
        var tenant = GrainClusterFixture.UniqueTenant("limits");
        using var scope = TenantContext.Enter(tenant);
        var grain = Tenant(tenant);
        Assert.Equal(new TenantLimits(600, 100, 20, 50), await grain.GetLimitsAsync()); // the configured defaults, before the tenant exists

        await grain.UpsertAsync("Acme", null, new TenantLimitOverrides(Channels: 3));
        foreach (var channel in new[] { "a", "b", "c" }) await grain.AddChannelAsync(channel);
        await grain.UpsertAsync("Acme", null, new TenantLimitOverrides(SendsPerMinute: 5, Channels: 1));
        await fx.Cluster.DeactivateAsync(grain);

        var info = await grain.GetAsync();
        Assert.Equal(new TenantLimits(5, 1, 20, 50), info!.Limits);
        Assert.Equal(["a", "b", "c"], await grain.GetChannelIdsAsync());
        await grain.AddChannelAsync("b"); // already listed: not a new channel
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => grain.AddChannelAsync("d"));
        Assert.Equal($"tenant '{tenant}' may have 1 channels and has 3; delete one first", refused.Message);
        Assert.Equal(["a", "b", "c"], await grain.GetChannelIdsAsync());
    }

    [Fact]
    public async Task A_limit_out_of_range_is_refused_and_changes_nothing()
    {
        var tenant = GrainClusterFixture.UniqueTenant("limits");
        using var scope = TenantContext.Enter(tenant);
        var grain = Tenant(tenant);
        await grain.UpsertAsync("Acme", null, new TenantLimitOverrides(ApiKeys: 2));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => grain.UpsertAsync("Renamed", null, new TenantLimitOverrides(ApiKeys: 101)));

        Assert.Equal("limits.apiKeys must be 1 to 100", error.Message);
        var info = await grain.GetAsync();
        Assert.Equal(("Acme", 2), (info!.DisplayName, info.Limits!.ApiKeys));
    }
}
