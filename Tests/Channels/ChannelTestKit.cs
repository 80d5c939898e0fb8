using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Grains.Interfaces.Tenants;

namespace Dovecote.Tests.Channels;

/// <summary>Small helpers so each test reads as the scenario it checks.</summary>
public static class ChannelTestKit
{
    private static int _next;

    /// <summary>A channel id no other test uses.</summary>
    public static string UniqueId(string prefix) => $"{prefix}-{Interlocked.Increment(ref _next)}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>A Telegram chat id no other test uses.</summary>
    public static string UniqueChatId() => (1_000_000 + Interlocked.Increment(ref _next)).ToString();

    /// <summary>Moves an active grain to <paramref name="silo"/>, unless it is there already.</summary>
    public static async Task PlaceOnAsync(this Orleans.TestingHost.InProcessTestCluster cluster, IAddressable grain, SiloAddress silo)
    {
        // MigrateAsync waits for the old activation to go, which never happens if it is already on the target.
        Assert.True(cluster.TryGetGrainContext(grain.GetGrainId(), out var context));
        if (!silo.Equals(context!.Address.SiloAddress)) await cluster.MigrateAsync(grain, silo);
    }

    public static IChannelGrain Channel(this IClusterClient client, string tenant, string channelId) =>
        client.GetGrain<IChannelGrain>(GrainKeys.Channel(tenant, channelId));

    public static async Task<DeliveryStatus> WaitForFinalAsync(this IChannelGrain channel, string deliveryId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var status = await channel.WaitForDeliveryAsync(deliveryId, TimeSpan.FromSeconds(5));
            Assert.NotNull(status);
            if (status.State is DeliveryState.Delivered or DeliveryState.Failed) return status;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"{deliveryId} is still {status.State} after {timeout}: attempts {status.Attempts}, last error {status.LastError}");
        }
    }

    public static async Task<string> EnqueueOkAsync(this IChannelGrain channel, string message, string? idempotencyKey = null, string? title = null)
    {
        var result = await channel.EnqueueAsync(new Notification(message, title), idempotencyKey);
        Assert.True(result.Accepted, result.Error);
        return result.DeliveryId!;
    }

    /// <summary>"w0 w1 w2 ..." so a test can check every word arrived once, in order.</summary>
    public static string NumberedWords(int count) => string.Join(' ', Enumerable.Range(0, count).Select(i => $"w{i}"));

    public static void AssertAllWordsInOrder(IEnumerable<string> chunks, int count)
    {
        var words = string.Join(' ', chunks).Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Where(w => w.StartsWith('w')).ToList();
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"w{i}"), words);
    }
}
