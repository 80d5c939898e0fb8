using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;

namespace Dovecote.Tests.Fakes;

/// <summary>A <c>sendMessage</c> the fake accepted. <paramref name="Text"/> is the text as sent (HTML included).</summary>
public sealed record TelegramMessage(
    string Token,
    string ChatId,
    string Text,
    string? ParseMode,
    bool DisableNotification,
    long? MessageThreadId,
    long MessageId,
    DateTimeOffset ReceivedAt);

/// <summary>
/// Fake Telegram Bot API: <c>GET|POST /bot{token}/{method}</c>, only <c>sendMessage</c> implemented, with the
/// Bot API's envelope, validation order and error descriptions.
/// </summary>
public sealed partial class FakeTelegramServer : FakePlatformServer
{
    /// <summary>Bot API limit on the text after entity parsing, in UTF-16 code units.</summary>
    public const int MaxTextLength = 4096;

    /// <summary>Bot FAQ: "no more than 30 messages per second", across all chats of one bot token.</summary>
    public const int PerBotLimit = 30;

    private const string Json = "application/json";

    // Bot FAQ: about one message per second per chat, short bursts tolerated.
    private const double PerChatBurst = 3;
    private const double PerChatPerSecond = 1;

    private static readonly TimeSpan PerBotWindow = TimeSpan.FromSeconds(1);

    // How long accepted send times are kept per token for the per-bot check; far beyond its 1 s window.
    private static readonly TimeSpan PerBotHistory = TimeSpan.FromSeconds(10);

    private readonly Lock _state = new();
    private readonly List<TelegramMessage> _messages = [];
    private readonly Dictionary<string, long> _lastMessageId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _usernameChatIds = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, (double Tokens, long At)> _chatBuckets = new(StringComparer.Ordinal);

    // Accepted ReceivedAt per token, sorted, recent ones only; what the per-bot limit is checked against.
    private readonly Dictionary<string, List<DateTimeOffset>> _botSends = new(StringComparer.Ordinal);
    private volatile LockedSet _validTokens = new(StringComparer.Ordinal, []);
    private volatile LockedSet _knownChats = new(StringComparer.OrdinalIgnoreCase, []);
    private volatile LockedSet _blockedChats = new(StringComparer.OrdinalIgnoreCase, []);
    private volatile ConcurrentDictionary<string, long> _migratedChats = new(StringComparer.OrdinalIgnoreCase);
    private volatile bool _enforcePerChatLimit;
    private volatile bool _enforcePerBotLimit;
    private volatile bool _rejectBareAmpersand = true;

    // The collections below are thread-safe and live: tests may change them while requests are in flight.
    // Assigning one replaces its contents with a copy.

    /// <summary>When non-empty, only these tokens are authorised (others get 401).</summary>
    public ISet<string> ValidTokens
    {
        get => _validTokens;
        set => _validTokens = new LockedSet(StringComparer.Ordinal, value ?? throw new ArgumentNullException(nameof(value)));
    }

    /// <summary>When non-empty, a chat id not listed gets "chat not found". Ids as sent: "42", "-100123", "@name".</summary>
    public ISet<string> KnownChats
    {
        get => _knownChats;
        set => _knownChats = new LockedSet(StringComparer.OrdinalIgnoreCase, value ?? throw new ArgumentNullException(nameof(value)));
    }

    /// <summary>Chats whose user blocked the bot (403).</summary>
    public ISet<string> BlockedChats
    {
        get => _blockedChats;
        set => _blockedChats = new LockedSet(StringComparer.OrdinalIgnoreCase, value ?? throw new ArgumentNullException(nameof(value)));
    }

    /// <summary>Groups upgraded to supergroups: old chat id → new chat id (400 with <c>migrate_to_chat_id</c>).</summary>
    public IDictionary<string, long> MigratedChats
    {
        get => _migratedChats;
        set => _migratedChats = new ConcurrentDictionary<string, long>(
            value ?? throw new ArgumentNullException(nameof(value)),
            StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Enforce about 1 message/s per chat after a burst of 3 (429 with <c>retry_after</c>). Off by default.</summary>
    public bool EnforcePerChatLimit
    {
        get => _enforcePerChatLimit;
        set => _enforcePerChatLimit = value;
    }

    /// <summary>Enforce at most <see cref="PerBotLimit"/> accepted messages per token in any 1 s window, across
    /// all its chats (429 with <c>retry_after</c>). Off by default.</summary>
    public bool EnforcePerBotLimit
    {
        get => _enforcePerBotLimit;
        set => _enforcePerBotLimit = value;
    }

    /// <summary>
    /// In HTML mode reject a '&amp;' that starts no entity (default true). The Bot API docs require it to be
    /// escaped; the real server (TDLib) is lenient and keeps it as a literal '&amp;'.
    /// </summary>
    public bool RejectBareAmpersand
    {
        get => _rejectBareAmpersand;
        set => _rejectBareAmpersand = value;
    }

    /// <summary>Snapshot of the messages accepted so far.</summary>
    public IReadOnlyList<TelegramMessage> Messages
    {
        get
        {
            lock (_state)
            {
                return _messages.ToArray();
            }
        }
    }

    protected override ScriptedResponse DownResponse => Failure(502, "Bad Gateway");

    /// <summary>429 "Too Many Requests: retry after N" with <c>parameters.retry_after</c> and a Retry-After header.</summary>
    public static ScriptedResponse RateLimited(int retryAfterSeconds) =>
        Failure(429, Invariant($"Too Many Requests: retry after {retryAfterSeconds}"),
            new JsonObject { ["retry_after"] = retryAfterSeconds },
            HeaderMap(("Retry-After", retryAfterSeconds.ToString(CultureInfo.InvariantCulture))));

    /// <summary>502 Bad Gateway, what api.telegram.org answers when its backend is unavailable.</summary>
    public static ScriptedResponse ServerError() => Failure(502, "Bad Gateway");

    public static ScriptedResponse ChatNotFound() => Failure(400, "Bad Request: chat not found");

    public static ScriptedResponse BotBlocked() => Failure(403, "Forbidden: bot was blocked by the user");

    public static ScriptedResponse CantParseEntities(string detail = "Can't find end tag corresponding to start tag \"b\"") =>
        Failure(400, "Bad Request: can't parse entities: " + detail);

    public static ScriptedResponse MessageTooLong() => Failure(400, "Bad Request: message is too long");

    public static ScriptedResponse Migrated(long newChatId) =>
        Failure(400, "Bad Request: group chat was upgraded to a supergroup chat", new JsonObject { ["migrate_to_chat_id"] = newChatId });

    /// <summary>The Bot API URL prefix for a token: <c>{BaseUrl}/bot{token}</c>.</summary>
    public string BotUrl(string token) => $"{BaseUrl}/bot{token}";

    /// <summary>The most accepted messages of <paramref name="token"/> whose ReceivedAt fall in one half-open
    /// window [t, t + <paramref name="window"/>), over all t: what a client's pacing actually achieved.</summary>
    public int MaxAcceptedInAnyWindow(string token, TimeSpan window)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        var times = Messages.Where(m => m.Token == token).Select(m => m.ReceivedAt).Order().ToArray();
        var best = 0;
        for (int first = 0, last = 0; last < times.Length; last++)
        {
            while (times[last] - times[first] >= window)
            {
                first++;
            }

            best = Math.Max(best, last - first + 1);
        }

        return best;
    }

    /// <summary>How many requests to <c>/bot{token}/…</c> were answered 429, scripted ones included.</summary>
    public int RateLimitedCount(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        var prefix = $"/bot{token}/";
        return Requests.Count(r => r.StatusCode == 429 && r.Path.Contains(prefix, StringComparison.Ordinal));
    }

    protected override void MapRoutes(IEndpointRouteBuilder routes)
    {
        MapPlatform(routes, "/bot{token}/{method}", ["GET", "POST"], Handle);
        // Anything outside /bot…/… is the Bot API's plain 404 envelope.
        MapUnknown(routes, _ => Failure(404, "Not Found"));
    }

    [GeneratedRegex(@"^\d+:[A-Za-z0-9_-]{5,}$")]
    private static partial Regex TokenFormat();

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);

    private static ScriptedResponse Failure(int code, string description, JsonObject? parameters = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        var body = new JsonObject { ["ok"] = false, ["error_code"] = code, ["description"] = description };
        if (parameters is not null)
        {
            body["parameters"] = parameters;
        }

        return new ScriptedResponse(code, body.ToJsonString(), Json, headers);
    }

    private ScriptedResponse Handle(PlatformRequest request)
    {
        var token = request.RouteValue("token");
        var validTokens = ValidTokens;
        if (!TokenFormat().IsMatch(token) || (validTokens.Count > 0 && !validTokens.Contains(token)))
        {
            return Failure(401, "Unauthorized");
        }

        // Method names are case-insensitive.
        if (!string.Equals(request.RouteValue("method"), "sendMessage", StringComparison.OrdinalIgnoreCase))
        {
            return Failure(404, "Not Found");
        }

        if (!TryReadParameters(request, out var parameters))
        {
            return Failure(400, "Bad Request: can't parse JSON object");
        }

        return SendMessage(request, token, parameters);
    }

    private ScriptedResponse SendMessage(PlatformRequest request, string token, Dictionary<string, string> parameters)
    {
        var chatId = parameters.GetValueOrDefault("chat_id")?.Trim() ?? string.Empty;
        if (chatId.Length == 0)
        {
            return Failure(400, "Bad Request: chat_id is empty");
        }

        var text = parameters.GetValueOrDefault("text") ?? string.Empty;
        if (text.Trim().Length == 0)
        {
            return Failure(400, "Bad Request: message text is empty");
        }

        var parseMode = parameters.GetValueOrDefault("parse_mode");
        var visible = text;
        switch (parseMode?.ToLowerInvariant())
        {
            case null or "":
                break;
            case "html":
                if (!TelegramHtml.TryParse(text, RejectBareAmpersand, out var parsed, out var error))
                {
                    return Failure(400, "Bad Request: can't parse entities: " + error);
                }

                visible = parsed;
                break;
            case "markdown" or "markdownv2":
                // Accepted without checking the Markdown syntax; length is measured on the raw text.
                break;
            default:
                return Failure(400, "Bad Request: unsupported parse_mode");
        }

        // The server trims surrounding whitespace before the emptiness and length checks.
        visible = visible.Trim();
        if (visible.Length == 0)
        {
            return Failure(400, "Bad Request: message text is empty");
        }

        if (!TryResolveChat(chatId, out var chatKey))
        {
            return Failure(400, "Bad Request: chat not found");
        }

        if (MigratedChats.TryGetValue(chatKey, out var newChatId))
        {
            return Migrated(newChatId);
        }

        if (BlockedChats.Contains(chatKey))
        {
            return BotBlocked();
        }

        var knownChats = KnownChats;
        if (knownChats.Count > 0 && !knownChats.Contains(chatKey))
        {
            return ChatNotFound();
        }

        if (visible.Length > MaxTextLength)
        {
            return MessageTooLong();
        }

        long? threadId = null;
        if (parameters.TryGetValue("message_thread_id", out var thread) && thread.Length > 0)
        {
            if (!long.TryParse(thread, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsedThread))
            {
                return Failure(400, "Bad Request: message thread not found");
            }

            threadId = parsedThread;
        }

        var silent = parameters.TryGetValue("disable_notification", out var flag)
            && (flag.Equals("true", StringComparison.OrdinalIgnoreCase) || flag == "1");

        long messageId;
        long numericChatId;
        lock (_state)
        {
            // Per-bot limit first: its check changes nothing, whereas the per-chat check takes a chat token,
            // which a request the bot limit refuses must not use up. Neither limit counts a refused request.
            if (EnforcePerBotLimit && !FitsBotLimit(token, request.ReceivedAt, out var botRetryAfter))
            {
                return RateLimited(botRetryAfter);
            }

            if (EnforcePerChatLimit && !TryTakeChatToken(token + "|" + chatKey, out var retryAfter))
            {
                return RateLimited(retryAfter);
            }

            numericChatId = NumericChatId(chatKey);
            messageId = _lastMessageId[chatKey] = _lastMessageId.GetValueOrDefault(chatKey) + 1;
            _messages.Add(new TelegramMessage(token, chatKey, text, parseMode, silent, threadId, messageId, request.ReceivedAt));
            RecordBotSend(token, request.ReceivedAt);
        }

        var chat = new JsonObject { ["id"] = numericChatId };
        switch (ChatType(chatKey))
        {
            case "private":
                chat["first_name"] = "Fake User";
                chat["type"] = "private";
                break;
            case var type:
                chat["title"] = "Fake " + type;
                if (chatKey.StartsWith('@'))
                {
                    chat["username"] = chatKey[1..];
                }

                chat["type"] = type;
                break;
        }

        var botId = long.Parse(token.AsSpan(0, token.IndexOf(':', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
        var message = new JsonObject
        {
            ["message_id"] = messageId,
            ["from"] = new JsonObject { ["id"] = botId, ["is_bot"] = true, ["first_name"] = "Dovecote Fake Bot", ["username"] = "dovecote_fake_bot" },
            ["chat"] = chat,
            ["date"] = request.ReceivedAt.ToUnixTimeSeconds(),
        };
        if (threadId is not null)
        {
            message["message_thread_id"] = threadId;
        }

        // The result carries the visible text: the server strips the HTML and returns entities separately.
        message["text"] = visible;
        return new ScriptedResponse(200, new JsonObject { ["ok"] = true, ["result"] = message }.ToJsonString(), Json);
    }

    // Bot API parameters may come from the query string, a form-urlencoded body or a JSON body (body wins).
    private static bool TryReadParameters(PlatformRequest request, out Dictionary<string, string> parameters)
    {
        parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in request.Context.Request.Query)
        {
            parameters[name] = value.ToString();
        }

        var mediaType = request.ContentType?.Split(';')[0].Trim() ?? string.Empty;
        if (mediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            foreach (var (name, value) in QueryHelpers.ParseQuery(request.Body))
            {
                parameters[name] = value.ToString();
            }
        }
        else if (mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) && request.RawBody.Length > 0)
        {
            try
            {
                using var document = JsonDocument.Parse(request.RawBody);
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return false;
                }

                foreach (var property in document.RootElement.EnumerateObject())
                {
                    var value = property.Value;
                    parameters[property.Name] = value.ValueKind switch
                    {
                        JsonValueKind.String => value.GetString()!,
                        JsonValueKind.Null => string.Empty,
                        _ => value.GetRawText(),
                    };
                }
            }
            catch (JsonException)
            {
                return false;
            }
        }

        return true;
    }

    // chat_id is an integer or "@username"; anything else names no chat.
    private static bool TryResolveChat(string chatId, out string key)
    {
        if (long.TryParse(chatId, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var numeric))
        {
            key = numeric.ToString(CultureInfo.InvariantCulture);
            return true;
        }

        key = chatId;
        return chatId.Length > 1 && chatId[0] == '@';
    }

    // Positive ids are users, -100… supergroups/channels, other negative ids basic groups.
    private static string ChatType(string chatKey) =>
        chatKey.StartsWith('@') || chatKey.StartsWith("-100", StringComparison.Ordinal) ? "supergroup"
        : chatKey.StartsWith('-') ? "group"
        : "private";

    private long NumericChatId(string chatKey)
    {
        if (!chatKey.StartsWith('@'))
        {
            return long.Parse(chatKey, CultureInfo.InvariantCulture);
        }

        if (!_usernameChatIds.TryGetValue(chatKey, out var id))
        {
            id = -1_001_000_000_000 - _usernameChatIds.Count - 1;
            _usernameChatIds[chatKey] = id;
        }

        return id;
    }

    // Token bucket per (bot, chat); caller holds _state.
    private bool TryTakeChatToken(string key, out int retryAfterSeconds)
    {
        var now = Stopwatch.GetTimestamp();
        var (tokens, at) = _chatBuckets.GetValueOrDefault(key, (PerChatBurst, now));
        tokens = Math.Min(PerChatBurst, tokens + Stopwatch.GetElapsedTime(at, now).TotalSeconds * PerChatPerSecond);
        if (tokens >= 1)
        {
            _chatBuckets[key] = (tokens - 1, now);
            retryAfterSeconds = 0;
            return true;
        }

        _chatBuckets[key] = (tokens, now);
        retryAfterSeconds = Math.Max(1, (int)Math.Ceiling((1 - tokens) / PerChatPerSecond));
        return false;
    }

    // Would accepting a send received at `at` put more than PerBotLimit accepted sends of the token into some
    // 1 s window? In arrival order that is "30 already in (at - 1 s, at]"; concurrent requests can enter the lock
    // out of ReceivedAt order, so every window holding `at` is checked, which keeps MaxAcceptedInAnyWindow at 30.
    // retry_after: until the oldest send of the fullest such window leaves it. Caller holds _state.
    private bool FitsBotLimit(string token, DateTimeOffset at, out int retryAfterSeconds)
    {
        retryAfterSeconds = 0;
        if (!_botSends.TryGetValue(token, out var sends))
        {
            return true;
        }

        // The accepted sends within 1 s either side of `at`, with `at` inserted in order.
        var near = sends.Where(t => (t - at).Duration() < PerBotWindow).ToList();
        var index = near.FindLastIndex(t => t <= at) + 1;
        near.Insert(index, at);

        var wait = TimeSpan.MinValue;
        for (var first = Math.Max(0, index - PerBotLimit); first <= index && first + PerBotLimit < near.Count; first++)
        {
            if (near[first + PerBotLimit] - near[first] < PerBotWindow)
            {
                var leaves = near[first] + PerBotWindow - at;
                wait = leaves > wait ? leaves : wait;
            }
        }

        if (wait == TimeSpan.MinValue)
        {
            return true;
        }

        retryAfterSeconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        return false;
    }

    // Keeps the token's accepted send times sorted and drops the ones no check can need any more. Caller holds _state.
    private void RecordBotSend(string token, DateTimeOffset at)
    {
        if (!_botSends.TryGetValue(token, out var sends))
        {
            sends = _botSends[token] = [];
        }

        sends.Insert(sends.FindLastIndex(t => t <= at) + 1, at);
        var stale = sends.FindIndex(t => t >= sends[^1] - PerBotHistory);
        sends.RemoveRange(0, stale);
    }

    /// <summary>A set guarded by a lock; enumeration works on a snapshot.</summary>
    private sealed class LockedSet(IEqualityComparer<string> comparer, IEnumerable<string> items) : ISet<string>, IReadOnlySet<string>
    {
        private readonly Lock _lock = new();
        private readonly HashSet<string> _items = new(items, comparer);

        public int Count => Locked(s => s.Count);

        public bool IsReadOnly => false;

        public bool Add(string item) => Locked(s => s.Add(item));

        void ICollection<string>.Add(string item) => Add(item);

        public bool Remove(string item) => Locked(s => s.Remove(item));

        public void Clear() => Locked(s => { s.Clear(); return true; });

        public bool Contains(string item) => Locked(s => s.Contains(item));

        public void CopyTo(string[] array, int arrayIndex) => Locked(s => { s.CopyTo(array, arrayIndex); return true; });

        public void UnionWith(IEnumerable<string> other) => Locked(s => { s.UnionWith(other); return true; });

        public void IntersectWith(IEnumerable<string> other) => Locked(s => { s.IntersectWith(other); return true; });

        public void ExceptWith(IEnumerable<string> other) => Locked(s => { s.ExceptWith(other); return true; });

        public void SymmetricExceptWith(IEnumerable<string> other) => Locked(s => { s.SymmetricExceptWith(other); return true; });

        public bool IsSubsetOf(IEnumerable<string> other) => Locked(s => s.IsSubsetOf(other));

        public bool IsSupersetOf(IEnumerable<string> other) => Locked(s => s.IsSupersetOf(other));

        public bool IsProperSubsetOf(IEnumerable<string> other) => Locked(s => s.IsProperSubsetOf(other));

        public bool IsProperSupersetOf(IEnumerable<string> other) => Locked(s => s.IsProperSupersetOf(other));

        public bool Overlaps(IEnumerable<string> other) => Locked(s => s.Overlaps(other));

        public bool SetEquals(IEnumerable<string> other) => Locked(s => s.SetEquals(other));

        public IEnumerator<string> GetEnumerator() => Locked(s => s.ToList()).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        private T Locked<T>(Func<HashSet<string>, T> action)
        {
            lock (_lock)
            {
                return action(_items);
            }
        }
    }
}
