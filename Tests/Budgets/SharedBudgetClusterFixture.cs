using Dovecote.Tests.Channels;

namespace Dovecote.Tests.Budgets;

/// <summary>
/// A two-silo cluster whose fake Telegram enforces its per-bot (30/s) and per-chat (1/s) limits with real 429s, and
/// whose invalid-answer threshold is low enough to reach in a test.
/// </summary>
public sealed class SharedBudgetClusterFixture : DeliveryClusterFixture
{
    public const int InvalidAnswerThreshold = 20;

    public SharedBudgetClusterFixture()
        : base(settings => settings["Budgets:InvalidAnswerThreshold"] = InvalidAnswerThreshold.ToString())
    {
        Telegram.EnforcePerBotLimit = true;
        Telegram.EnforcePerChatLimit = true;
    }

    /// <summary>A bot token of its own, in the Bot API's format.</summary>
    public static string NewBotToken() => $"{Random.Shared.Next(100_000, 999_999)}:budget{Guid.NewGuid():N}";
}

[CollectionDefinition(Name)]
public sealed class SharedBudgetCollection : ICollectionFixture<SharedBudgetClusterFixture>
{
    public const string Name = "shared budgets";
}
