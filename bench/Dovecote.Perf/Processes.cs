namespace Dovecote.Perf;

/// <summary>A webhook endpoint in this process that answers 200 at once and counts what it got.</summary>
internal sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private long _total;

    private Receiver(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";
    public long Total => Interlocked.Read(ref _total);

    public static async Task<Receiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var receiver = new Receiver(builder.Build());
        receiver._app.MapPost("/hook/{id}", async (HttpRequest request) =>
        {
            await request.Body.CopyToAsync(Stream.Null);
            Interlocked.Increment(ref receiver._total);
            return Results.Ok();
        });
        await receiver._app.StartAsync();
        receiver.Url = receiver._app.Urls.First();
        return receiver;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
