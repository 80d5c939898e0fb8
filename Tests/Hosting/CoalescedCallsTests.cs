using Dovecote.Api.Hosting;

namespace Dovecote.Tests.Hosting;

public sealed class CoalescedCallsTests
{
    /// <summary>A call that records its batches and waits to be let go, so the test decides what arrives while one is on its way.</summary>
    private sealed class HeldCalls
    {
        public readonly List<(string Key, List<int> Items)> Batches = [];
        public readonly SemaphoreSlim Started = new(0);
        public TaskCompletionSource Release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public Exception? Failure;

        public async Task<IReadOnlyList<string>> CallAsync(string key, IReadOnlyList<int> items)
        {
            lock (Batches) Batches.Add((key, [.. items]));
            Started.Release();
            await Release.Task;
            if (Failure is { } failure) throw failure;
            return [.. items.Select(i => $"{key}:{i}")];
        }
    }

    [Fact]
    public async Task Items_submitted_while_a_call_is_on_its_way_go_together_in_the_next_one_and_each_gets_its_own_result()
    {
        var held = new HeldCalls();
        var calls = new CoalescedCalls<int, string>(held.CallAsync, maxBatch: 100);

        var first = calls.SubmitAsync("a", 0);
        await held.Started.WaitAsync(TestContext.Current.CancellationToken);
        var waiting = Enumerable.Range(1, 10).Select(i => calls.SubmitAsync("a", i)).ToList();
        held.Release.SetResult();

        Assert.Equal("a:0", await first);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"a:{i}"), await Task.WhenAll(waiting));
        Assert.Equal([[0], [.. Enumerable.Range(1, 10)]], held.Batches.Select(b => b.Items));
    }

    [Fact]
    public async Task Keys_never_share_a_call_and_a_batch_is_cut_at_its_maximum()
    {
        var held = new HeldCalls();
        var calls = new CoalescedCalls<int, string>(held.CallAsync, maxBatch: 3);

        var first = calls.SubmitAsync("a", 0);
        await held.Started.WaitAsync(TestContext.Current.CancellationToken);
        var rest = Enumerable.Range(1, 7).Select(i => calls.SubmitAsync("a", i)).Append(calls.SubmitAsync("b", 100)).ToList();
        held.Release.SetResult();
        await Task.WhenAll(rest.Append(first));

        Assert.All(held.Batches, b => Assert.True(b.Items.Count <= 3));
        Assert.All(held.Batches, b => Assert.All(b.Items, i => Assert.Equal(i >= 100 ? "b" : "a", b.Key)));
        Assert.Equal(Enumerable.Range(0, 8), held.Batches.Where(b => b.Key == "a").SelectMany(b => b.Items));
    }

    [Fact]
    public async Task A_failed_call_fails_every_item_of_its_batch_and_the_key_recovers()
    {
        var held = new HeldCalls { Failure = new InvalidOperationException("storage down") };
        var calls = new CoalescedCalls<int, string>(held.CallAsync, maxBatch: 100);

        var items = new[] { calls.SubmitAsync("a", 1), calls.SubmitAsync("a", 2) };
        held.Release.SetResult();

        foreach (var item in items) Assert.Equal("storage down", (await Assert.ThrowsAsync<InvalidOperationException>(() => item)).Message);
        held.Failure = null;
        Assert.Equal("a:3", await calls.SubmitAsync("a", 3));
    }
}
