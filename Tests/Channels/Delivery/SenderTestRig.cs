using System.Net;
using Dovecote.Grains.Channels.Delivery;
using Dovecote.Grains.Channels.Discord;
using Dovecote.Grains.Channels.Rendering;
using Dovecote.Grains.Channels.Slack;
using Dovecote.Grains.Channels.Telegram;
using Dovecote.Grains.Channels.Webhooks;
using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Tests.Fakes;
using Microsoft.Extensions.Options;

namespace Dovecote.Tests.Channels.Delivery;

/// <summary>
/// The real senders, wired as the silo wires them (no redirects, the same Polly pipeline) but called
/// directly, against the four platform fakes: one send, one classified outcome.
/// </summary>
public sealed class SenderTestRig : IAsyncLifetime, IHttpClientFactory
{
    public const string BotToken = "123456:hostile-token";

    private readonly CountingHandler _handler = new(new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(10) });

    public FakeTelegramServer Telegram { get; } = new();
    public FakeDiscordServer Discord { get; } = new();
    public FakeSlackServer Slack { get; } = new();
    public FakeWebhookReceiver Webhooks { get; } = new();

    /// <summary>Response body bytes the sender pulled from the connection during the last <see cref="SendAsync"/>
    /// (all of them when HttpClient buffers the content).</summary>
    public long BodyBytesRead => Interlocked.Read(ref _handler.BodyBytesRead);

    public async ValueTask InitializeAsync() =>
        await Task.WhenAll(Telegram.StartAsync(), Discord.StartAsync(), Slack.StartAsync(), Webhooks.StartAsync());

    HttpClient IHttpClientFactory.CreateClient(string name) => new(_handler, disposeHandler: false);

    public FakePlatformServer Fake(ChannelType type) => type switch
    {
        ChannelType.Telegram => Telegram,
        ChannelType.Discord => Discord,
        ChannelType.Slack => Slack,
        _ => Webhooks,
    };

    /// <summary>Sends "hello" once through the real sender of <paramref name="type"/> to a fresh destination on its fake.</summary>
    public Task<SendOutcome> SendAsync(ChannelType type, string message = "hello")
    {
        IChannelSender sender = type switch
        {
            ChannelType.Telegram => new TelegramSender(
                this,
                Options.Create(new ChannelTargetOptions { TelegramApiBaseUrl = Telegram.BaseUrl }),
                TimeProvider.System),
            ChannelType.Discord => new DiscordSender(this, TimeProvider.System),
            ChannelType.Slack => new SlackSender(this, TimeProvider.System),
            _ => new WebhookSender(this, TimeProvider.System),
        };
        ChannelSettings settings = type switch
        {
            ChannelType.Telegram => new TelegramSettings(BotToken, ChannelTestKit.UniqueChatId()),
            ChannelType.Discord => new DiscordSettings(Discord.CreateWebhook()),
            ChannelType.Slack => new SlackSettings(Slack.CreateWebhook()),
            _ => Webhooks.CreateEndpoint() is var (url, secret) ? new WebhookSettings(url, secret) : throw new InvalidOperationException(),
        };
        var notification = new Notification(message);
        var pipeline = DeliveryHttp.CreatePipeline(new DeliveryOptions { AttemptTimeout = TimeSpan.FromSeconds(20) }, TimeProvider.System);
        Interlocked.Exchange(ref _handler.BodyBytesRead, 0);
        var chunk = sender.Render(notification, RenderLimits.Default)[0];
        var request = new SendRequest(Guid.NewGuid().ToString("N"), settings, notification, chunk, AsPlainText: false, pipeline);
        return sender.SendAsync(request, TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(Telegram.DisposeAsync().AsTask(), Discord.DisposeAsync().AsTask(), Slack.DisposeAsync().AsTask(), Webhooks.DisposeAsync().AsTask());
        _handler.Dispose();
    }

    /// <summary>Counts the body bytes read through each response's content, whoever reads them.</summary>
    private sealed class CountingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        public long BodyBytesRead;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            var counted = new CountingContent(response.Content, this);
            foreach (var header in response.Content.Headers) counted.Headers.TryAddWithoutValidation(header.Key, header.Value);
            response.Content = counted;
            return response;
        }

        private sealed class CountingContent(HttpContent inner, CountingHandler owner) : HttpContent
        {
            protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
                await (await CreateContentReadStreamAsync()).CopyToAsync(stream);

            protected override async Task<Stream> CreateContentReadStreamAsync() => new CountingStream(await inner.ReadAsStreamAsync(), owner);

            protected override bool TryComputeLength(out long length)
            {
                length = 0;
                return false;
            }

            protected override void Dispose(bool disposing)
            {
                if (disposing) inner.Dispose();
                base.Dispose(disposing);
            }
        }

        private sealed class CountingStream(Stream inner, CountingHandler owner) : Stream
        {
            public override bool CanRead => true;
            public override bool CanSeek => false;
            public override bool CanWrite => false;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

            public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));

            public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
                Counted(await inner.ReadAsync(buffer, cancellationToken));

            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

            public override void Flush()
            {
            }

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

            protected override void Dispose(bool disposing)
            {
                if (disposing) inner.Dispose();
                base.Dispose(disposing);
            }

            private int Counted(int read)
            {
                Interlocked.Add(ref owner.BodyBytesRead, read);
                return read;
            }
        }
    }
}
