using System.Net;
using Dovecote.Grains.Hosting;
using Dovecote.Tests.Hosting;
using Dovecote.Tests.OAuth;

namespace Dovecote.Tests.Cluster;

/// <summary>
/// The real Silo and Api executables as a cluster on loopback: silos killed with SIGKILL and restarted one by one with
/// SIGTERM under load, and nothing an agent was told is accepted goes missing.
/// </summary>
public sealed class MultiProcessClusterTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Azure_a_killed_silo_and_a_rolling_restart_under_load_lose_nothing_acknowledged()
    {
        await using var cluster = await ProcessCluster.StartAsync(ClusteringOptions.Azure, channels: 24);
        await Task.WhenAll(cluster.StartSiloAsync("silo-1"), cluster.StartSiloAsync("silo-2"), cluster.StartSiloAsync("silo-3"));
        await Task.WhenAll(cluster.StartApiAsync(), cluster.StartApiAsync());
        await using var load = cluster.StartLoad(workers: 6);
        await load.WaitForMoreAcceptedAsync(150, Step);

        // SIGKILL part-way: no goodbye to the membership table, its grains and their activations just vanish.
        var killedAt = DateTimeOffset.UtcNow;
        await cluster.Silos[1].KillAsync();
        await load.WaitForMoreAcceptedAsync(150, Step);
        var replacement = await cluster.StartSiloAsync("silo-4");
        Assert.False(replacement.HasExited);
        await load.WaitForMoreAcceptedAsync(100, Step);

        // Then a rolling restart, as a Deployment does it: SIGTERM one silo, wait for it to leave, start its successor.
        var rollingFrom = DateTimeOffset.UtcNow;
        foreach (var (silo, next) in new[] { (cluster.Silos[0], "silo-5"), (cluster.Silos[2], "silo-6"), (replacement, "silo-7") })
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            await silo.TerminateAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(0, silo.ExitCode);
            var stopped = watch.Elapsed;
            await cluster.StartSiloAsync(next);
            output.WriteLine($"rolling: a silo left in {stopped.TotalSeconds:F1} s, {next} was ready {(watch.Elapsed - stopped).TotalSeconds:F1} s later");
            await load.WaitForMoreAcceptedAsync(50, Step);
        }
        var rollingUntil = DateTimeOffset.UtcNow;
        await load.StopAsync();

        var answers = load.Answers.ToList();
        await AssertEveryAcceptedMessageArrivesWithFewDuplicatesAsync(cluster, answers);

        var afterKill = answers.Where(a => a.StartedAt > killedAt && a.AnsweredAt < rollingFrom).ToList();
        var firstAcceptedAfterKill = afterKill.Where(a => a.Accepted).Min(a => a.AnsweredAt);
        Assert.True(firstAcceptedAfterKill - killedAt < TimeSpan.FromSeconds(30), $"sends were accepted again only {firstAcceptedAfterKill - killedAt} after the kill");
        Assert.DoesNotContain(afterKill, a => !a.Accepted && a.StartedAt > killedAt + TimeSpan.FromSeconds(30));

        var rolling = answers.Where(a => a.StartedAt >= rollingFrom && a.AnsweredAt <= rollingUntil).ToList();
        foreach (var api in cluster.Apis)
            Assert.Contains(rolling, a => a.Api == api.HttpUrl && a.Accepted);
        var failedWhileRolling = rolling.Where(a => !a.Accepted).ToList();
        output.WriteLine($"kill: first accepted send {(firstAcceptedAfterKill - killedAt).TotalSeconds:F1} s after it, "
            + $"{afterKill.Count(a => !a.Accepted)} of {afterKill.Count} failed; rolling restart: {failedWhileRolling.Count} of {rolling.Count} failed");
        foreach (var error in afterKill.Concat(rolling).Where(a => !a.Accepted).Select(a => a.Error).Distinct().Take(5)) output.WriteLine($"failed: {error}");
        Assert.True(failedWhileRolling.Count <= rolling.Count / 50, $"{failedWhileRolling.Count} of {rolling.Count} sends failed during the rolling restart: "
            + string.Join(" | ", failedWhileRolling.Take(3).Select(a => a.Error)));
    }

    [Fact]
    public async Task Redis_a_killed_silo_under_load_loses_nothing_acknowledged()
    {
        await using var cluster = await ProcessCluster.StartAsync(ClusteringOptions.Redis, channels: 12);
        await Task.WhenAll(cluster.StartSiloAsync("silo-1"), cluster.StartSiloAsync("silo-2"));
        await cluster.StartApiAsync();
        await using var load = cluster.StartLoad(workers: 4);
        await load.WaitForMoreAcceptedAsync(100, Step);

        await cluster.Silos[0].KillAsync();
        await load.WaitForMoreAcceptedAsync(100, Step);
        await cluster.StartSiloAsync("silo-3");
        await load.WaitForMoreAcceptedAsync(50, Step);
        await load.StopAsync();

        await AssertEveryAcceptedMessageArrivesWithFewDuplicatesAsync(cluster, load.Answers.ToList());
    }

    [Fact]
    public async Task Azure_one_authorization_code_redeemed_through_both_apis_at_once_succeeds_exactly_once()
    {
        await using var cluster = await ProcessCluster.StartAsync(ClusteringOptions.Azure, channels: 1);
        await Task.WhenAll(cluster.StartSiloAsync("silo-1"), cluster.StartSiloAsync("silo-2"));
        await Task.WhenAll(cluster.StartApiAsync(), cluster.StartApiAsync());
        var (first, second) = (cluster.Apis[0].HttpUrl, cluster.Apis[1].HttpUrl);

        for (var round = 0; round < 3; round++)
        {
            var code = await AuthorizationCodes.IssueAsync(first, "default", ProcessCluster.Password);
            await AuthorizationCodes.AssertRedeemedExactlyOnceAsync(code, first, second);
        }
        var issued = await AuthorizationCodes.IssueAsync(second, "default", ProcessCluster.Password);
        var (status, _) = await AuthorizationCodes.PostTokenAsync(first, issued.Redemption());
        Assert.Equal(HttpStatusCode.OK, status);
    }

    private async Task AssertEveryAcceptedMessageArrivesWithFewDuplicatesAsync(ProcessCluster cluster, IReadOnlyList<SendAnswer> answers)
    {
        var accepted = answers.Where(a => a.Accepted).Select(a => a.Message).ToHashSet();
        Dictionary<string, int> arrived = [];
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            arrived = cluster.ArrivedMessages();
            var missing = accepted.Where(m => !arrived.ContainsKey(m)).ToList();
            if (missing.Count == 0) break;
            Assert.True(DateTime.UtcNow < deadline, $"{missing.Count} of {accepted.Count} accepted messages never arrived, e.g. "
                + string.Join(", ", missing.Take(10)) + "\n" + cluster.Logs());
            await Task.Delay(200, TestContext.Current.CancellationToken); // polling deliveries in flight
        }
        var duplicates = arrived.Where(a => accepted.Contains(a.Key)).Sum(a => a.Value - 1);
        output.WriteLine($"{answers.Count} sends, {accepted.Count} accepted, all arrived; {duplicates} duplicate deliveries");
        Assert.True(duplicates * 100 < accepted.Count, $"{duplicates} duplicates for {accepted.Count} accepted messages (1% or more)");
    }
}
