using System.Text;
using Dovecote.Api.Audit;
using Dovecote.Grains.Audit;
using Dovecote.Grains.Interfaces.Audit;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Grains.Storage;
using Dovecote.Tests.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Dovecote.Tests.Audit;

/// <summary>A two-silo cluster whose audit segments hold 3 events, so a few events span several segments.</summary>
public sealed class SmallSegmentClusterFixture : IAsyncLifetime
{
    public const int SegmentEvents = 3;
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("dovecote-audit-").FullName;

    public GrainStateLog Log { get; private set; } = null!;
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IReadOnlyList<(string Key, string Text)> StoredText(string prefix = "") =>
        Log.Scan(prefix).Select(e => (e.Key, Encoding.UTF8.GetString(e.Value.Data.Span))).ToList();

    public async ValueTask InitializeAsync()
    {
        Log = new GrainStateLog(new GrainStateLogOptions { Directory = Path.Combine(_dataDirectory, "grains") }, NullLogger<GrainStateLog>.Instance);
        Cluster = DeliveryClusterFixture.BuildCluster(Log, _dataDirectory, new() { ["Audit:SegmentEvents"] = $"{SegmentEvents}" });
        await Cluster.DeployAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await Log.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }
}

public sealed class SegmentedAuditTests(SmallSegmentClusterFixture fx) : IClassFixture<SmallSegmentClusterFixture>
{
    private static DateOnly Today => DateOnly.FromDateTime(DateTime.UtcNow);

    private IAuditLogGrain Day(string tenant, DateOnly day) => fx.Cluster.Client.GetGrain<IAuditLogGrain>(GrainKeys.AuditDay(tenant, day));

    private static List<AuditEvent> Events(string tenant, int count) =>
        Enumerable.Range(0, count)
            .Select(i => new AuditEvent(DateTimeOffset.UtcNow, tenant, "apikey:k3x9a2b7q1p0", "notification.send", $"channel-{i}"))
            .ToList();

    private async Task<List<AuditPage>> PagesAsync(IAuditLogGrain day, int limit)
    {
        var pages = new List<AuditPage>();
        string? after = null;
        do
        {
            var page = await day.ReadPageAsync(after, limit);
            pages.Add(page);
            after = page.Next;
        }
        while (after is not null && pages.Count < 100);
        return pages;
    }

    [Fact]
    public async Task A_day_of_more_events_than_a_segment_keeps_them_all_in_order_in_small_segments()
    {
        var tenant = GrainClusterFixture.UniqueTenant("seg");
        using var scope = TenantContext.Enter(tenant);
        var day = Day(tenant, Today);
        var events = Events(tenant, 10);

        foreach (var e in events) await day.AppendAsync(e);
        await fx.Cluster.DeactivateAsync(day);

        Assert.Equal(events, await day.ReadAsync());
        var pages = await PagesAsync(day, 4);
        Assert.Equal([4, 4, 2], pages.Select(p => p.Events.Count));
        Assert.Null(pages[^1].Next);
        Assert.Equal(events, pages.SelectMany(p => p.Events));

        // The day grain stores no event; each of the 4 segments stores at most 3, in order.
        var key = GrainKeys.AuditDay(tenant, Today);
        var (_, dayText) = Assert.Single(fx.StoredText("state/"), r => r.Key.EndsWith($"/audit/{key}"));
        Assert.DoesNotContain("notification.send", dayText);
        var segments = fx.StoredText("state/").Where(r => r.Key.Contains($"/auditsegment/{key}/")).OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
        Assert.Equal([1, 2, 3, 4], segments.Select(r => int.Parse(r.Key[(r.Key.LastIndexOf('/') + 1)..])));
        Assert.Equal([3, 3, 3, 1], segments.Select(r => events.Count(e => r.Text.Contains($"\"{e.Target}\""))));
    }

    [Fact]
    public async Task Concurrent_appends_across_segment_boundaries_drop_nothing()
    {
        var tenant = GrainClusterFixture.UniqueTenant("seg");
        using var scope = TenantContext.Enter(tenant);
        var day = Day(tenant, Today);
        var events = Events(tenant, 40);

        await Task.WhenAll(events.Select(day.AppendAsync));

        var read = await day.ReadAsync();
        Assert.Equal(events.Select(e => e.Target).Order(), read.Select(e => e.Target).Order());
    }

    [Fact]
    public async Task One_batch_larger_than_a_segment_is_split_over_segments_in_order()
    {
        var tenant = GrainClusterFixture.UniqueTenant("seg");
        using var scope = TenantContext.Enter(tenant);
        var day = Day(tenant, Today);
        var first = Events(tenant, 2);
        var batch = Events(tenant, 8).Select(e => e with { Target = "batch-" + e.Target }).ToList();

        await day.AppendManyAsync(first);
        await day.AppendManyAsync(batch);
        await fx.Cluster.DeactivateAsync(day);

        Assert.Equal([.. first, .. batch], await day.ReadAsync());
        var key = GrainKeys.AuditDay(tenant, Today);
        var segments = fx.StoredText("state/").Where(r => r.Key.Contains($"/auditsegment/{key}/")).OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
        Assert.Equal([3, 3, 3, 1], segments.Select(r => first.Concat(batch).Count(e => r.Text.Contains($"\"{e.Target}\""))));
    }

    [Fact]
    public async Task Concurrent_audit_trail_records_are_all_stored_once_however_they_were_batched()
    {
        var tenant = GrainClusterFixture.UniqueTenant("seg");
        var trail = new AuditTrail(fx.Cluster.Client, TimeProvider.System, NullLogger<AuditTrail>.Instance);

        await Task.WhenAll(Enumerable.Range(0, 300).Select(i => Task.Run(() => trail.RecordAsync(tenant, "apikey:k3x9a2b7q1p0", "notification.send", $"channel-{i}"))));

        var stored = new List<AuditEvent>();
        string? after = null;
        do
        {
            var page = await trail.ReadAsync(tenant, Today, after, 100);
            stored.AddRange(page.Events);
            after = page.Next;
        }
        while (after is not null);
        Assert.Equal(Enumerable.Range(0, 300).Select(i => $"channel-{i}").Order(), stored.Select(e => e.Target).Order());
    }

    [Fact]
    public async Task A_batch_with_another_tenants_event_is_refused_whole()
    {
        var tenant = GrainClusterFixture.UniqueTenant("seg");
        using var scope = TenantContext.Enter(tenant);
        var day = Day(tenant, Today);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => day.AppendManyAsync([.. Events(tenant, 2), .. Events("globex", 1)]));

        Assert.Contains("belongs to tenant 'globex'", error.Message);
        Assert.Empty(await day.ReadAsync());
    }

    [Fact]
    public async Task A_day_stored_before_segments_still_reads_first_and_takes_new_events_after_it()
    {
        var tenant = GrainClusterFixture.UniqueTenant("seg");
        using var scope = TenantContext.Enter(tenant);
        var key = GrainKeys.AuditDay(tenant, Today);
        var old = Events(tenant, 5); // more than a segment: the old shape had no segments
        var storage = fx.Cluster.GetSiloServiceProvider().GetRequiredKeyedService<IGrainStorage>("Default");
        await storage.WriteStateAsync("audit", GrainId.Create("audit", key), new GrainState<AuditLogState>(new AuditLogState { Events = old }));
        Assert.Contains(fx.StoredText("state/"), r => r.Key.EndsWith($"/audit/{key}") && r.Text.Contains("channel-4"));

        var day = Day(tenant, Today);
        Assert.Equal(old, await day.ReadAsync());
        var later = new AuditEvent(DateTimeOffset.UtcNow, tenant, "admin", "channel.put", "later");
        await day.AppendAsync(later);
        await fx.Cluster.DeactivateAsync(day);

        Assert.Equal([.. old, later], await day.ReadAsync());
        var pages = await PagesAsync(day, 2);
        Assert.Equal([.. old, later], pages.SelectMany(p => p.Events));
        Assert.All(pages.SkipLast(1), p => Assert.Equal(2, p.Events.Count));
    }

    [Fact]
    public async Task A_malformed_cursor_is_refused()
    {
        var tenant = GrainClusterFixture.UniqueTenant("seg");
        using var scope = TenantContext.Enter(tenant);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Day(tenant, Today).ReadPageAsync("x.-1", 10));

        Assert.Equal("after must be the next of the previous page", error.Message);
    }

    [Fact]
    public async Task Expiry_deletes_every_segment_of_the_day()
    {
        var tenant = GrainClusterFixture.UniqueTenant("seg");
        using var scope = TenantContext.Enter(tenant);
        var date = Today.AddDays(-91);
        var day = Day(tenant, date);
        foreach (var e in Events(tenant, 7)) await day.AppendAsync(e);
        var key = GrainKeys.AuditDay(tenant, date);
        Assert.Equal(3, fx.StoredText("state/").Count(r => r.Key.Contains($"/auditsegment/{key}/")));

        var tick = new TickStatus(DateTime.UtcNow, TimeSpan.FromDays(1), DateTime.UtcNow);
        await day.AsReference<IRemindable>().ReceiveReminder("expire", tick, TestContext.Current.CancellationToken);

        Assert.Empty(await day.ReadAsync());
        Assert.DoesNotContain(fx.StoredText(), r => r.Key.Contains(key));
    }
}
