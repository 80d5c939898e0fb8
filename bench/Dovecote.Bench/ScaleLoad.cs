using System.Diagnostics;
using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Grains.Storage;
using Orleans.Runtime;

namespace Dovecote.Bench;

/// <summary>
/// Issue 12 goal 6 on one embedded silo: (a) many configured channel grains active at once, with the process's resident
/// memory before and after (both after a full GC) and the figure per grain; (c) the first <c>channels</c> of them
/// accepting and delivering to the local receiver, delivered/s against accepted/s. Bounded: every wait has a timeout.
/// </summary>
internal static class ScaleLoad
{
    public static async Task RunAsync(IServiceProvider services, GrainStateLog log, Receiver receiver,
        Func<string, RateLimitPolicy, Task<IChannelGrain>> configure, RateLimitPolicy fast, int grainCount, int channels, int perChannel, int concurrency)
    {
        var management = services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
        var (rssBefore, heapBefore) = Memory();
        var activeBefore = await management.GetTotalActivationCount();
        Console.WriteLine($"before: {activeBefore:N0} activations, RSS {rssBefore / 1048576.0:N0} MiB, managed heap {heapBefore / 1048576.0:N0} MiB");

        // (a) Configure every channel: each activation reads its (missing) state and writes it.
        var grains = new IChannelGrain[grainCount];
        var configured = -1;
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref configured)) < grainCount)
            {
                grains[i] = await configure($"scale-{i}", fast);
                if ((i + 1) % 10_000 == 0) Console.WriteLine($"  configured {i + 1:N0} in {stopwatch.Elapsed.TotalSeconds:F1} s, RSS {Memory(collect: false).Rss / 1048576.0:N0} MiB");
            }
        }));
        stopwatch.Stop();
        var (rssAfter, heapAfter) = Memory();
        var active = await management.GetTotalActivationCount();
        var added = active - activeBefore;
        Console.WriteLine($"after: {active:N0} activations (+{added:N0}), RSS {rssAfter / 1048576.0:N0} MiB, managed heap {heapAfter / 1048576.0:N0} MiB, "
            + $"configured in {stopwatch.Elapsed.TotalSeconds:F1} s ({grainCount / stopwatch.Elapsed.TotalSeconds:N0}/s)");
        Console.WriteLine("| channel grains active | RSS before → after (MiB) | RSS per grain | managed heap per grain | configure calls/s |");
        Console.WriteLine("|---|---|---|---|---|");
        Console.WriteLine($"| {added:N0} | {rssBefore / 1048576.0:N0} → {rssAfter / 1048576.0:N0} | {(rssAfter - rssBefore) / (double)Math.Max(1, added) / 1024:F1} KiB | "
            + $"{(heapAfter - heapBefore) / (double)Math.Max(1, added) / 1024:F1} KiB | {grainCount / stopwatch.Elapsed.TotalSeconds:N0} |");

        // (c) The first channels accept perChannel messages each, round-robin, while delivering to the receiver.
        channels = Math.Min(channels, grainCount);
        var messages = channels * perChannel;
        receiver.Reset();
        var (writes, flushes) = (log.Writes, log.Flushes);
        var next = -1;
        var from = Stopwatch.StartNew();
        var progress = Task.Run(async () =>
        {
            while (receiver.Received < messages && from.Elapsed < TimeSpan.FromMinutes(10))
            {
                await Task.Delay(TimeSpan.FromSeconds(5));
                Console.WriteLine($"  {from.Elapsed.TotalSeconds:F0} s: accepted {Math.Min(Volatile.Read(ref next) + 1, messages):N0}, delivered {receiver.Received:N0}");
            }
        });
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < messages)
            {
                var result = await grains[i % channels].EnqueueAsync(new Notification($"scale message {i}"), null);
                if (!result.Accepted) throw new InvalidOperationException(result.Error);
            }
        }));
        var accepted = from.Elapsed;
        await receiver.WaitForAsync(messages, TimeSpan.FromMinutes(10));
        var delivered = from.Elapsed;
        await progress;
        var (acceptRate, deliverRate) = (messages / accepted.TotalSeconds, messages / delivered.TotalSeconds);
        Console.WriteLine($"| {channels:N0} channels × {perChannel} | accepted/s | delivered/s (first accept to last receipt) | delivered / accepted | writes per fsync |");
        Console.WriteLine("|---|---|---|---|---|");
        Console.WriteLine($"| {messages:N0} messages | {acceptRate:N0} ({accepted.TotalSeconds:F1} s) | {deliverRate:N0} ({delivered.TotalSeconds:F1} s) | "
            + $"{deliverRate / acceptRate:F2} | {(double)(log.Writes - writes) / Math.Max(1, log.Flushes - flushes):F1} |");
    }

    /// <summary>Resident set (VmRSS) and managed heap, after a full blocking GC unless told not to.</summary>
    private static (long Rss, long Heap) Memory(bool collect = true)
    {
        if (collect)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        }
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        var rss = line is null ? Environment.WorkingSet : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        return (rss, GC.GetTotalMemory(forceFullCollection: false));
    }
}
