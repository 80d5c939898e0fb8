using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Dovecote.Grains.Storage;
using Microsoft.Extensions.Logging;

namespace Dovecote.Tests.Storage;

public sealed class GrainStateLogTests : IAsyncLifetime
{
    private readonly TempLogFolder _folder = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _folder.DisposeAsync();

    [Fact]
    public async Task Values_and_etags_survive_reopen()
    {
        GrainStateLog log = _folder.Open();
        string etagA = await log.WriteAsync("a", null, Utf8("one"), Ct);
        string etagB = await log.WriteAsync("b", null, Utf8("two"), Ct);
        etagA = await log.WriteAsync("a", etagA, Utf8("three"), Ct);
        await log.DeleteAsync("b", etagB, Ct);
        await log.WriteAsync("x/1", null, Utf8("x1"), Ct);
        await log.WriteAsync("x/2", null, Utf8("x2"), Ct);

        log = await _folder.ReopenAsync(log);

        Assert.True(log.TryGet("a", out StoredValue a));
        Assert.Equal(etagA, a.ETag);
        Assert.Equal("three", Text(a.Data));
        Assert.False(log.TryGet("b", out _));
        Assert.Equal(["x/1", "x/2"], log.Scan("x/").Select(e => e.Key).Order());
        // ETags keep increasing across restarts, so a stale one can never match again.
        string etagC = await log.WriteAsync("c", null, Utf8("c"), Ct);
        Assert.True(Sequence(etagC) > Sequence(etagA));
    }

    [Fact]
    public async Task Compare_and_set_rejects_stale_and_unexpected_etags()
    {
        GrainStateLog log = _folder.Open();
        string first = await log.WriteAsync("k", null, Utf8("v1"), Ct);
        string second = await log.WriteAsync("k", first, Utf8("v2"), Ct);

        var stale = await Assert.ThrowsAsync<ETagMismatchException>(() => log.WriteAsync("k", first, Utf8("v3"), Ct));
        Assert.Contains("'k'", stale.Message);
        Assert.Contains(first, stale.Message);
        Assert.Contains(second, stale.Message);
        Assert.DoesNotContain("v3", stale.Message);
        await Assert.ThrowsAsync<ETagMismatchException>(() => log.WriteAsync("k", null, Utf8("v3"), Ct));
        await Assert.ThrowsAsync<ETagMismatchException>(() => log.DeleteAsync("k", first, Ct));
        await Assert.ThrowsAsync<ETagMismatchException>(() => log.WriteAsync("missing", first, Utf8("v"), Ct));

        await log.DeleteAsync("missing", null, Ct);
        await log.DeleteAsync("k", second, Ct);
        Assert.False(log.TryGet("k", out _));
    }

    [Fact]
    public async Task Concurrent_writes_to_a_thousand_keys_all_survive_reopen()
    {
        GrainStateLog log = _folder.Open();
        await Task.WhenAll(Enumerable.Range(0, 20).Select(worker => Task.Run(async () =>
        {
            for (int i = worker * 50; i < (worker + 1) * 50; i++)
            {
                await log.WriteAsync($"key/{i}", null, Utf8($"value {i}"), Ct);
            }
        })));

        log = await _folder.ReopenAsync(log);

        Assert.Equal(1000, log.Scan("key/").Count);
        for (int i = 0; i < 1000; i++)
        {
            Assert.True(log.TryGet($"key/{i}", out StoredValue value));
            Assert.Equal($"value {i}", Text(value.Data));
        }
    }

    [Fact]
    public async Task Racing_compare_and_set_loses_no_update()
    {
        GrainStateLog log = _folder.Open();
        await log.WriteAsync("counter", null, Int(0), Ct);
        int successes = 0;

        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(async () =>
        {
            for (int done = 0; done < 4;)
            {
                Assert.True(log.TryGet("counter", out StoredValue current));
                try
                {
                    await log.WriteAsync("counter", current.ETag, Int(BinaryPrimitives.ReadInt32LittleEndian(current.Data.Span) + 1), Ct);
                    Interlocked.Increment(ref successes);
                    done++;
                }
                catch (ETagMismatchException)
                {
                    // Lost the race: re-read and try again.
                }
            }
        })));

        log = await _folder.ReopenAsync(log);

        Assert.Equal(200, successes);
        Assert.True(log.TryGet("counter", out StoredValue final));
        Assert.Equal(successes, BinaryPrimitives.ReadInt32LittleEndian(final.Data.Span));
    }

    [Fact]
    public async Task Concurrent_writers_share_fsyncs()
    {
        GrainStateLog log = _folder.Open();

        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => log.WriteAsync($"g/{i}", null, Utf8("payload"), Ct)));

        Assert.Equal(200, log.Writes);
        Assert.True(log.Flushes < log.Writes, $"{log.Flushes} fsyncs for {log.Writes} writes");
    }

    [Fact]
    public async Task A_record_cut_in_half_by_a_crash_is_dropped_and_the_previous_value_kept()
    {
        GrainStateLog log = _folder.Open();
        string etagA = await log.WriteAsync("k", null, Utf8("A"), Ct);
        string wal = Assert.Single(_folder.Files("wal-*.log"));
        long lengthAfterA = new FileInfo(wal).Length;
        await log.WriteAsync("k", etagA, Utf8("B"), Ct);
        await log.DisposeAsync();
        long lengthAfterB = new FileInfo(wal).Length;
        using (var file = new FileStream(wal, FileMode.Open))
        {
            file.SetLength(lengthAfterA + ((lengthAfterB - lengthAfterA) / 2));
        }

        log = _folder.Open();

        Assert.True(log.TryGet("k", out StoredValue k));
        Assert.Equal("A", Text(k.Data));
        Assert.Equal(etagA, k.ETag);
        Assert.Contains(_folder.Logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("torn"));
        // The log was truncated at the last good record, so appending after it stays readable.
        string etagC = await log.WriteAsync("k", etagA, Utf8("C"), Ct);
        log = await _folder.ReopenAsync(log);
        Assert.True(log.TryGet("k", out k));
        Assert.Equal(etagC, k.ETag);
    }

    [Fact]
    public async Task Garbage_after_the_last_record_is_ignored()
    {
        GrainStateLog log = _folder.Open();
        string etagA = await log.WriteAsync("k", null, Utf8("A"), Ct);
        string etagB = await log.WriteAsync("k", etagA, Utf8("B"), Ct);
        await log.DisposeAsync();
        string wal = Assert.Single(_folder.Files("wal-*.log"));
        await File.AppendAllTextAsync(wal, "\u0007garbage from a half-finished write", Ct);

        log = _folder.Open();

        Assert.True(log.TryGet("k", out StoredValue k));
        Assert.Equal(etagB, k.ETag);
        Assert.Equal("B", Text(k.Data));
        Assert.Contains(_folder.Logger.Entries, e => e.Level == LogLevel.Warning);
    }

    [Fact]
    public async Task Leftover_temp_snapshot_is_ignored_and_deleted()
    {
        GrainStateLog log = _folder.Open();
        await log.WriteAsync("k", null, Utf8("A"), Ct);
        await log.DisposeAsync();
        string temp = Path.Combine(_folder.Path, "snapshot-0000000001.dat.tmp");
        await File.WriteAllTextAsync(temp, "half a snapshot", Ct);

        log = _folder.Open();

        Assert.True(log.TryGet("k", out StoredValue k));
        Assert.Equal("A", Text(k.Data));
        Assert.False(File.Exists(temp));
    }

    [Fact]
    public async Task Corrupt_snapshot_falls_back_to_the_wal_it_would_have_replaced()
    {
        GrainStateLog log = _folder.Open();
        await log.WriteAsync("k", null, Utf8("A"), Ct);
        await log.DisposeAsync();
        await File.WriteAllTextAsync(Path.Combine(_folder.Path, "snapshot-0000000001.dat"), "DVSNAP01 not really", Ct);

        log = _folder.Open();

        Assert.True(log.TryGet("k", out StoredValue k));
        Assert.Equal("A", Text(k.Data));
        Assert.Contains(_folder.Logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("snapshot-0000000001.dat"));
    }

    [Fact]
    public async Task Compaction_keeps_latest_values_and_deletions()
    {
        GrainStateLog log = _folder.Open(compactionThresholdBytes: 4096);
        var latest = new string?[40];
        byte[] padding = new byte[300];

        // Each key is rewritten by its own task while others run, so compactions overlap ongoing writes.
        await Task.WhenAll(Enumerable.Range(0, latest.Length).Select(key => Task.Run(async () =>
        {
            string? etag = null;
            for (int version = 0; version < 20; version++)
            {
                etag = await log.WriteAsync($"k/{key}", etag, Versioned(version, padding), Ct);
            }

            if (key % 4 == 0)
            {
                await log.DeleteAsync($"k/{key}", etag, Ct);
                etag = null;
            }

            latest[key] = etag;
        })));
        long writes = log.Writes;

        // Disposing waits for the running compaction, so the folder is settled afterwards.
        log = await _folder.ReopenAsync(log);

        List<long> snapshots = Generations("snapshot-*.dat");
        List<long> wals = Generations("wal-*.log");
        long snapshot = Assert.Single(snapshots);
        Assert.All(wals, wal => Assert.True(wal > snapshot, $"wal {wal} should have been compacted into snapshot {snapshot}"));
        Assert.DoesNotContain(_folder.Logger.Entries, e => e.Level >= LogLevel.Error);
        Assert.Equal((40 * 20) + 10, writes);
        for (int key = 0; key < latest.Length; key++)
        {
            if (latest[key] is null)
            {
                Assert.False(log.TryGet($"k/{key}", out _));
                continue;
            }

            Assert.True(log.TryGet($"k/{key}", out StoredValue value));
            Assert.Equal(latest[key], value.ETag);
            Assert.Equal(19, BinaryPrimitives.ReadInt32LittleEndian(value.Data.Span));
        }
    }

    [Fact]
    public async Task A_second_instance_on_the_same_folder_fails_fast()
    {
        GrainStateLog first = _folder.Open();

        var ex = Assert.Throws<IOException>(() => _folder.Open());

        Assert.Contains(_folder.Path, ex.Message);
        Assert.Contains("already in use", ex.Message);
        await first.DisposeAsync();
        _folder.Open();
    }

    private List<long> Generations(string pattern) =>
        _folder.Files(pattern)
            .Select(path => long.Parse(Path.GetFileNameWithoutExtension(path).Split('-')[1], CultureInfo.InvariantCulture))
            .ToList();

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(ReadOnlyMemory<byte> data) => Encoding.UTF8.GetString(data.Span);

    private static byte[] Int(int value)
    {
        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] Versioned(int version, byte[] padding) => [.. Int(version), .. padding];

    private static ulong Sequence(string etag) => ulong.Parse(etag, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
}
