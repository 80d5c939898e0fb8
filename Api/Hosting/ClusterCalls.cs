using Orleans.Runtime.Messaging;
using Orleans.Storage;

namespace Dovecote.Api.Hosting;

/// <summary>
/// Grain calls that meet a cluster in motion: a silo that died and is not yet declared dead, a gateway going away, or two
/// activations of a grain for a moment (an ETag conflict, after which the grain reloads). Such a call is retried briefly.
/// </summary>
public static class ClusterCalls
{
    private static readonly TimeSpan[] Delays = [TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1),
        TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)];

    /// <summary>
    /// How long the Api, as a client, waits for any grain call (Orleans' default is 30 s). A call that was on its way to a
    /// silo that died gets no answer at all, and the client learns it only from this timeout; so it is short, and calls
    /// that wait on purpose (a delivery's outcome) wait in slices of <see cref="LongestWait"/>.
    /// </summary>
    public static readonly TimeSpan ResponseTimeout = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The delivery's status once it is no longer queued or retrying, or after <paramref name="wait"/>: asked in slices of
    /// <see cref="LongestWait"/>, so no single grain call outlasts <see cref="ResponseTimeout"/>.
    /// </summary>
    public static async Task<DeliveryStatus?> WaitForDeliveryAsync(IChannelGrain channel, string deliveryId, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            var slice = deadline - DateTime.UtcNow;
            if (slice > LongestWait) slice = LongestWait;
            var status = await channel.WaitForDeliveryAsync(deliveryId, slice > TimeSpan.Zero ? slice : TimeSpan.Zero);
            if (status?.State is not (DeliveryState.Queued or DeliveryState.Retrying) || DateTime.UtcNow >= deadline) return status;
        }
    }

    /// <summary>What an agent is told when the cluster did not answer even after the retries.</summary>
    public const string Unavailable =
        "Dovecote's cluster did not answer in time (a silo may be failing over). The message may not have been queued: "
        + "retry, with an idempotency_key so it is not sent twice.";

    /// <summary>A failure of the cluster, not of the request: the same call may well succeed a moment later.</summary>
    public static bool IsTransient(Exception e) => e is SiloUnavailableException or OrleansMessageRejectionException or ConnectionFailedException
        or GatewayTooBusyException or InconsistentStateException or TimeoutException
        or Orleans.Networking.Shared.SocketConnectionException;

    /// <summary>
    /// Runs <paramref name="call"/>, again after a short pause while it fails transiently (about 8 s in all: membership
    /// declares a killed silo dead in about 3). A retried accept may be stored twice; delivery is at least once.
    /// </summary>
    public static async Task<T> RetryAsync<T>(Func<Task<T>> call, ILogger logger, CancellationToken cancellationToken = default)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (IsTransient(e) && attempt < Delays.Length && !cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("A grain call failed transiently ({Error}); retry {Attempt} in {Delay}", e.GetType().Name, attempt + 1, Delays[attempt]);
                await Task.Delay(Delays[attempt], cancellationToken);
            }
        }
    }

    /// <summary>The log category of what this class and its middleware report.</summary>
    public sealed class Log;
}
