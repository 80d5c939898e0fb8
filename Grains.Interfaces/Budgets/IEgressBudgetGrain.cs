namespace Dovecote.Grains.Interfaces.Budgets;

/// <summary>
/// One per platform ("discord", "telegram", "slack"): the 401, 403 and 429 answers the whole cluster got from it in a sliding
/// window. Discord bans an egress IP after 10,000 of them in 10 minutes, and every tenant shares that IP; past the
/// threshold, channels whose last answer was invalid are held so healthy ones keep the platform.
/// </summary>
[Alias("dovecote.IEgressBudgetGrain")]
public interface IEgressBudgetGrain : IGrainWithStringKey
{
    /// <summary>Counts <paramref name="answers"/> invalid answers and says where the window stands.</summary>
    [Alias("ReportInvalid")]
    Task<EgressStatus> ReportInvalidAsync(int answers);

    [Alias("GetStatus"), ReadOnly]
    Task<EgressStatus> GetStatusAsync();
}

/// <summary>Invalid answers in the last <see cref="Window"/>; <see cref="Held"/> once they reach <see cref="Threshold"/>.</summary>
[GenerateSerializer, Immutable, Alias("dovecote.EgressStatus")]
public sealed record EgressStatus(
    [property: Id(0)] string Platform,
    [property: Id(1)] long InvalidAnswers,
    [property: Id(2)] long Threshold,
    [property: Id(3)] TimeSpan Window)
{
    public bool Held => InvalidAnswers >= Threshold;
}
