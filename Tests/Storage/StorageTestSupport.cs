using System.Collections.Concurrent;
using Dovecote.Grains.Storage;
using Microsoft.Extensions.Logging;

namespace Dovecote.Tests.Storage;

/// <summary>A fresh temp folder for one test, plus every log opened on it; all closed and deleted at the end.</summary>
internal sealed class TempLogFolder : IAsyncDisposable
{
    private readonly List<GrainStateLog> _opened = [];

    public string Path { get; } = Directory.CreateTempSubdirectory("dovecote-storage-").FullName;

    public ListLogger<GrainStateLog> Logger { get; } = new();

    public GrainStateLog Open(long compactionThresholdBytes = 64L * 1024 * 1024)
    {
        var log = new GrainStateLog(
            new GrainStateLogOptions { Directory = Path, CompactionThresholdBytes = compactionThresholdBytes },
            Logger);
        _opened.Add(log);
        return log;
    }

    public async Task<GrainStateLog> ReopenAsync(GrainStateLog log)
    {
        await log.DisposeAsync();
        return Open();
    }

    public string[] Files(string pattern) => Directory.GetFiles(Path, pattern);

    public async ValueTask DisposeAsync()
    {
        foreach (GrainStateLog log in _opened)
        {
            await log.DisposeAsync();
        }

        Directory.Delete(Path, recursive: true);
    }
}

internal sealed class ListLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _entries = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Entries => _entries.ToArray();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue((logLevel, formatter(state, exception)));
}
