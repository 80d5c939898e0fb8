using Dovecote.Grains.Storage;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Configuration;
using Orleans.Runtime;

namespace Dovecote.Tests.Storage;

public sealed class LogReminderTableTests : IAsyncLifetime
{
    private static readonly DateTime Start = new(2026, 11, 22, 10, 0, 0, DateTimeKind.Utc);

    private readonly TempLogFolder _folder = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _folder.DisposeAsync();

    [Fact]
    public async Task Upsert_read_and_remove_follow_etags()
    {
        var table = CreateTable(_folder.Open());
        GrainId grain = GrainId.Create("channel", "acme/tg-1");
        ReminderEntry entry = Entry(grain, "drain");

        string? first = await table.UpsertRow(entry);
        Assert.Equal(first, entry.ETag);
        ReminderEntry? read = await table.ReadRow(grain, "drain");
        Assert.NotNull(read);
        Assert.Equal(grain, read.GrainId);
        Assert.Equal("drain", read.ReminderName);
        Assert.Equal(Start, read.StartAt);
        Assert.Equal(DateTimeKind.Utc, read.StartAt.Kind);
        Assert.Equal(TimeSpan.FromMinutes(1), read.Period);
        Assert.Equal(first, read.ETag);

        entry.Period = TimeSpan.FromMinutes(5);
        string? second = await table.UpsertRow(entry);
        Assert.NotEqual(first, second);

        Assert.False(await table.RemoveRow(grain, "drain", first!));
        Assert.True(await table.RemoveRow(grain, "drain", second!));
        Assert.Null(await table.ReadRow(grain, "drain"));
        Assert.False(await table.RemoveRow(grain, "drain", second!));
    }

    [Fact]
    public async Task Read_rows_by_grain_matches_the_exact_grain_id()
    {
        var table = CreateTable(_folder.Open());
        GrainId grain = GrainId.Create("channel", "acme");
        GrainId longer = GrainId.Create("channel", "acme/x");
        await table.UpsertRow(Entry(grain, "a"));
        await table.UpsertRow(Entry(grain, "b"));
        await table.UpsertRow(Entry(longer, "a"));

        ReminderTableData rows = await table.ReadRows(grain);

        Assert.Equal(["a", "b"], rows.Reminders.Select(r => r.ReminderName).Order());
        Assert.All(rows.Reminders, r => Assert.Equal(grain, r.GrainId));
    }

    [Fact]
    public async Task Read_rows_by_ring_range_is_exclusive_begin_inclusive_end_and_wraps()
    {
        var table = CreateTable(_folder.Open());
        GrainId[] grains = Enumerable.Range(0, 6)
            .Select(i => GrainId.Create("channel", $"tenant/{i}"))
            .OrderBy(g => g.GetUniformHashCode())
            .ToArray();
        uint[] hashes = grains.Select(g => g.GetUniformHashCode()).ToArray();
        Assert.Equal(6, hashes.Distinct().Count());
        foreach (GrainId grain in grains)
        {
            await table.UpsertRow(Entry(grain, "r"));
        }

        Assert.Equal(grains[1..4], await Grains(table.ReadRows(hashes[0], hashes[3])));
        Assert.Equal([grains[0], grains[1], grains[4], grains[5]], await Grains(table.ReadRows(hashes[3], hashes[1])));
        Assert.Equal(grains, await Grains(table.ReadRows(hashes[2], hashes[2])));
        Assert.Equal(grains, await Grains(table.ReadRows(0, 0)));
    }

    [Fact]
    public async Task Reminders_survive_reopen_and_clear_only_touches_reminders()
    {
        GrainStateLog log = _folder.Open();
        GrainId grain = GrainId.Create("channel", "acme/tg-1");
        string? etag = await CreateTable(log).UpsertRow(Entry(grain, "drain"));
        await log.WriteAsync("state/svc/s/channel/acme/tg-1", null, new byte[] { 1 }, Ct);

        log = await _folder.ReopenAsync(log);
        var table = CreateTable(log);

        ReminderEntry? read = await table.ReadRow(grain, "drain");
        Assert.NotNull(read);
        Assert.Equal(etag, read.ETag);
        await table.TestOnlyClearTable();
        Assert.Empty((await table.ReadRows(0, 0)).Reminders);
        Assert.True(log.TryGet("state/svc/s/channel/acme/tg-1", out _));
    }

    private static LogReminderTable CreateTable(GrainStateLog log) =>
        new(log, Options.Create(new ClusterOptions { ServiceId = "svc" }));

    private static ReminderEntry Entry(GrainId grain, string name) => new()
    {
        GrainId = grain,
        ReminderName = name,
        StartAt = Start,
        Period = TimeSpan.FromMinutes(1),
    };

    private static async Task<GrainId[]> Grains(Task<ReminderTableData> rows) =>
        (await rows).Reminders.Select(r => r.GrainId).OrderBy(g => g.GetUniformHashCode()).ToArray();
}
