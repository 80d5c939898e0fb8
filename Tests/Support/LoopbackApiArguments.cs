namespace Dovecote.Tests.Support;

/// <summary>
/// Start arguments of an in-process Api (embedded silo included): Kestrel on a loopback port the OS picks, its own data
/// directory, free silo and gateway ports, warnings only. A fixture's own settings follow these.
/// </summary>
public static class LoopbackApiArguments
{
    public static string[] For(string dataDirectory, params string[] settings) =>
    [
        "--urls=http://127.0.0.1:0",
        $"--DOVECOTE_DATA_DIR={dataDirectory}",
        $"--DOVECOTE_SILO_PORT={FreePorts.Next()}",
        $"--DOVECOTE_GATEWAY_PORT={FreePorts.Next()}",
        "--Logging:LogLevel:Default=Warning",
        .. settings,
    ];
}
