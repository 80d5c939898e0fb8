using Dovecote.Grains.Interfaces.Budgets;

namespace Dovecote.Grains.Budgets;

/// <summary>
/// The invalid answers (401, 403, 429) the whole cluster got from one platform in a sliding window; one activation per
/// platform, so every silo counts against the same window, as the platform counts against our one egress address.
/// In memory: a silo failure forgets at most one window, and channels that keep getting dead answers disable themselves.
/// </summary>
[GrainType("egress-budget")]
public sealed class EgressBudgetGrain(IOptions<BudgetOptions> options, BudgetMetrics metrics, TimeProvider time, ILogger<EgressBudgetGrain> logger)
    : Grain, IEgressBudgetGrain
{
    private readonly InvalidAnswerWindow _window = new(options.Value.InvalidAnswerWindow);
    private IDisposable? _gauge;
    private bool _held;

    private string Platform => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _gauge = metrics.TrackEgress(Platform, Status);
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _gauge?.Dispose();
        return Task.CompletedTask;
    }

    Task<EgressStatus> IEgressBudgetGrain.ReportInvalidAsync(int answers)
    {
        metrics.BudgetCall("egress", "report");
        _window.Add(time.GetUtcNow(), Math.Max(0, answers));
        var status = Status();
        if (status.Held != _held)
        {
            _held = status.Held;
            if (_held)
                logger.LogWarning("{Platform}: {Count} invalid answers in {Window}, at the threshold of {Threshold}; holding channels whose last answer was invalid",
                    Platform, status.InvalidAnswers, status.Window, status.Threshold);
            else
                logger.LogInformation("{Platform}: invalid answers back under the threshold", Platform);
        }
        // Kept while it counts: a deactivation would forget the window.
        if (status.InvalidAnswers > 0) DelayDeactivation(_window.Length);
        return Task.FromResult(status);
    }

    Task<EgressStatus> IEgressBudgetGrain.GetStatusAsync()
    {
        metrics.BudgetCall("egress", "status");
        return Task.FromResult(Status());
    }

    private EgressStatus Status() =>
        new(Platform, _window.Count(time.GetUtcNow()), options.Value.InvalidAnswerThreshold, _window.Length);
}
