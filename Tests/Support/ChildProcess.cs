using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Dovecote.Tests.Support;

/// <summary>A process the tests start themselves (Azurite, redis-server, our executables), its output kept for failure messages, killed on dispose.</summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly StringBuilder _output = new();
    private readonly Process _process;

    public ChildProcess(string fileName, IEnumerable<string> arguments) : this(new ProcessStartInfo(fileName, arguments))
    {
    }

    public ChildProcess(ProcessStartInfo start)
    {
        (start.RedirectStandardOutput, start.RedirectStandardError, start.UseShellExecute) = (true, true, false);
        _process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start");
        _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public Task WaitForExitAsync(CancellationToken cancellationToken = default) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>SIGKILL to the whole tree: no shutdown hooks, no flushing.</summary>
    public async Task KillAsync(CancellationToken cancellationToken = default)
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync(cancellationToken);
    }

    /// <summary>Waits until something accepts TCP connections on the loopback <paramref name="port"/>; fails with the output if the process exits.</summary>
    public async Task WaitForPortAsync(int port, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"{what} exited with {_process.ExitCode}: {Output}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100); // polling a starting process
            }
            catch (SocketException e)
            {
                throw new InvalidOperationException($"{what} did not listen on {port} within a minute: {Output}", e);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }
}
