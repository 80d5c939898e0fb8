using System.Text.Json;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Configuration;
using Orleans.Runtime;

namespace Dovecote.Grains.Storage;

/// <summary>
/// Durable reminders for embedded mode, stored as small JSON rows in the <see cref="GrainStateLog"/> under
/// <c>reminders/{ServiceId}/{grainId}/{reminderName}</c>; a row's ETag is the log's ETag.
/// </summary>
internal sealed class LogReminderTable(GrainStateLog log, IOptions<ClusterOptions> clusterOptions) : IReminderTable
{
    private readonly string _prefix = $"reminders/{clusterOptions.Value.ServiceId}/";

    public Task<ReminderTableData> ReadRows(GrainId grainId)
    {
        // A key prefix alone would also match longer grain ids ("a/b" vs "a/b/c"), so compare the stored id.
        var rows = log.Scan($"{_prefix}{grainId}/")
            .Select(e => ToEntry(e.Value))
            .Where(entry => entry.GrainId.Equals(grainId));
        return Task.FromResult(new ReminderTableData(rows));
    }

    /// <summary>Rows whose grain hash is in the ring range (begin, end]; begin &gt;= end wraps around the ring.</summary>
    public Task<ReminderTableData> ReadRows(uint begin, uint end)
    {
        var rows = log.Scan(_prefix)
            .Select(e => ToEntry(e.Value))
            .Where(entry => InRange(entry.GrainId.GetUniformHashCode(), begin, end));
        return Task.FromResult(new ReminderTableData(rows));
    }

    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) =>
        Task.FromResult(log.TryGet(Key(grainId, reminderName), out StoredValue stored)
            ? ToEntry(stored)
            : null);

    public async Task<string?> UpsertRow(ReminderEntry entry)
    {
        var row = new ReminderRow(entry.GrainId.ToString(), entry.ReminderName, AsUtc(entry.StartAt), entry.Period);
        entry.ETag = await log.UpsertAsync(Key(entry.GrainId, entry.ReminderName), JsonSerializer.SerializeToUtf8Bytes(row));
        return entry.ETag;
    }

    public async Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag)
    {
        string key = Key(grainId, reminderName);
        if (!log.TryGet(key, out _))
        {
            return false;
        }

        try
        {
            await log.DeleteAsync(key, eTag);
            return true;
        }
        catch (ETagMismatchException)
        {
            return false;
        }
    }

    public async Task TestOnlyClearTable()
    {
        foreach ((string key, StoredValue value) in log.Scan(_prefix))
        {
            await log.DeleteAsync(key, value.ETag);
        }
    }

    // Same ring semantics as Orleans' own range type: (begin, end], wrapping when begin >= end (begin == end is the whole ring).
    private static bool InRange(uint hash, uint begin, uint end) =>
        begin < end ? hash > begin && hash <= end : hash > begin || hash <= end;

    private static DateTime AsUtc(DateTime time) =>
        time.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(time, DateTimeKind.Utc) : time.ToUniversalTime();

    private static ReminderEntry ToEntry(StoredValue stored)
    {
        ReminderRow row = JsonSerializer.Deserialize<ReminderRow>(stored.Data.Span)
            ?? throw new InvalidDataException("Reminder row is empty.");
        return new ReminderEntry
        {
            GrainId = GrainId.Parse(row.GrainId),
            ReminderName = row.ReminderName,
            StartAt = row.StartAt,
            Period = row.Period,
            ETag = stored.ETag,
        };
    }

    private string Key(GrainId grainId, string reminderName) => $"{_prefix}{grainId}/{reminderName}";

    private sealed record ReminderRow(string GrainId, string ReminderName, DateTime StartAt, TimeSpan Period);
}
