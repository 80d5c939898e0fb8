using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Dovecote.Grains.Interfaces.Budgets;

namespace Dovecote.Grains.Budgets;

/// <summary>
/// What the shared budgets cost and where the egress budgets stand. Tagged by budget kind and platform only: never a
/// budget's key, which names a bot or a workspace.
/// </summary>
public sealed class BudgetMetrics
{
    public const string MeterName = "Dovecote.Budgets";

    private readonly Counter<long> _calls;
    private readonly Counter<long> _waits;
    private readonly ConcurrentDictionary<string, Func<EgressStatus>> _egress = new();

    public BudgetMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _calls = meter.CreateCounter<long>("dovecote.budget.calls", description: "Calls into shared budget grains, by budget kind and call.");
        _waits = meter.CreateCounter<long>("dovecote.budget.waits",
            description: "Sends a shared budget made wait, by reason (slot, paused, held, revoked).");
        meter.CreateObservableGauge("dovecote.egress.invalid_answers", () => Egress(s => s.InvalidAnswers),
            description: "401, 403 and 429 answers from a platform in the sliding window, cluster-wide (reported by the silo that counts them).");
        meter.CreateObservableGauge("dovecote.egress.held", () => Egress(s => s.Held ? 1L : 0L),
            description: "1 while a platform's invalid answers are at the threshold and channels whose last answer was invalid are held.");
    }

    public void BudgetCall(string kind, string call) => _calls.Add(1, new("budget", kind), new("call", call));

    public void Waited(string reason) => _waits.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>The egress budget of <paramref name="platform"/> is counted on this silo until the returned handle is disposed.</summary>
    public IDisposable TrackEgress(string platform, Func<EgressStatus> read)
    {
        _egress[platform] = read;
        return new Untrack(() => _egress.TryRemove(new KeyValuePair<string, Func<EgressStatus>>(platform, read)));
    }

    private IEnumerable<Measurement<long>> Egress(Func<EgressStatus, long> value) =>
        _egress.Select(e => new Measurement<long>(value(e.Value()), new KeyValuePair<string, object?>("platform", e.Key)));

    private sealed class Untrack(Action untrack) : IDisposable
    {
        public void Dispose() => untrack();
    }
}
