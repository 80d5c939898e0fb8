namespace Dovecote.Tests.Channels;

/// <summary>
/// A delivery cluster of its own for the hostile-destination tests: its fakes answer garbage on purpose, and
/// MaxPause is two seconds so a clamped absurd retry_after is seen to end within a test.
/// </summary>
public sealed class HostileDestinationsFixture() : DeliveryClusterFixture(settings => settings["Delivery:MaxPause"] = MaxPause.ToString())
{
    public static readonly TimeSpan MaxPause = TimeSpan.FromSeconds(2);
}
