using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dovecote.Grains.Interfaces.Tenants;

namespace Dovecote.Grains.Interfaces.OAuth;

/// <summary>The grain keys of the OAuth entities' indexes and prune buckets, built in one place so writer and reader agree.</summary>
public static class OAuthKeys
{
    /// <summary>The key of the single pruner, prune schedule and scope catalog grains, and of the old single application directory.</summary>
    public const string Singleton = "0";

    /// <summary>How many application directory shards there are. Part of the storage layout: never change it.</summary>
    public const int DirectoryShardCount = 64;

    /// <summary>Every shard key, "apps-00" to "apps-63".</summary>
    public static IReadOnlyList<string> DirectoryShards { get; } =
        [.. Enumerable.Range(0, DirectoryShardCount).Select(n => "apps-" + n.ToString("D2", CultureInfo.InvariantCulture))];

    /// <summary>The shard of a client_id: the first byte of the SHA-256 of its UTF-8, mod 64. Stable across processes and versions.</summary>
    public static string DirectoryShard(string clientId) => DirectoryShards[SHA256.HashData(Encoding.UTF8.GetBytes(clientId))[0] % DirectoryShardCount];

    /// <summary>
    /// The application grain of a client_id. A dynamic registration id ("dvc-" and 48 hex digits) keeps its key; a
    /// metadata-document URL holds '/' and may be 2,048 characters long, so it is hashed (<see cref="GrainKeys.Part"/>).
    /// The application's state keeps the real client_id.
    /// </summary>
    public static string Application(string clientId) => GrainKeys.Part(clientId);

    /// <summary>The authorization or token grain of an id: ours are 32 hex digits and stay as they are; any other string is hashed.</summary>
    public static string Entity(string id) => GrainKeys.Part(id);

    /// <summary>
    /// Base64url of the reference id's UTF-8: the manager's obfuscated id holds '/', '+' and '=', which some storage keys
    /// refuse. Its 44 characters give 60, kept as they are; a longer one is hashed rather than overrunning the key limit.
    /// </summary>
    public static string TokenReference(string referenceId) => GrainKeys.Part(Base64Url.EncodeToString(Encoding.UTF8.GetBytes(referenceId)));

    public static string SubjectAuthorizations(string subject) => "subject-authz/" + GrainKeys.Part(subject);
    public static string ApplicationAuthorizations(string applicationId) => "app-authz/" + GrainKeys.Part(applicationId);
    public static string AuthorizationTokens(string authorizationId) => "authz-tokens/" + GrainKeys.Part(authorizationId);
    /// <summary>Tokens of an application that belong to no authorization (request tokens, client credentials).</summary>
    public static string ApplicationTokens(string applicationId) => "app-tokens/" + GrainKeys.Part(applicationId);

    private const string TokenBucketPrefix = "tok/";
    private const string AuthorizationBucketPrefix = "authz/";
    private const string HourFormat = "yyyyMMddHH";
    private const string DayFormat = "yyyyMMdd";

    /// <summary>The hourly bucket holding tokens that become prunable once the threshold passes <paramref name="at"/>.</summary>
    public static string TokenBucket(DateTimeOffset at) => TokenBucketPrefix + at.UtcDateTime.ToString(HourFormat, CultureInfo.InvariantCulture);

    /// <summary>The daily bucket holding authorizations that become prunable once the threshold passes <paramref name="at"/>.</summary>
    public static string AuthorizationBucket(DateTimeOffset at) => AuthorizationBucketPrefix + at.UtcDateTime.ToString(DayFormat, CultureInfo.InvariantCulture);

    public static bool IsTokenBucket(string bucket) => bucket.StartsWith(TokenBucketPrefix, StringComparison.Ordinal);

    /// <summary>The end of the bucket's hour or day: a pass whose threshold is at or past it may prune everything in it.</summary>
    public static DateTimeOffset BucketDue(string bucket)
    {
        var (text, format, period) = IsTokenBucket(bucket)
            ? (bucket[TokenBucketPrefix.Length..], HourFormat, TimeSpan.FromHours(1))
            : bucket.StartsWith(AuthorizationBucketPrefix, StringComparison.Ordinal)
                ? (bucket[AuthorizationBucketPrefix.Length..], DayFormat, TimeSpan.FromDays(1))
                : throw new ArgumentException($"'{bucket}' is not a prune bucket key");
        var start = DateTime.ParseExact(text, format, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
        return new DateTimeOffset(start, TimeSpan.Zero) + period;
    }
}

/// <summary>The OpenIddict status and type values the grains act on; copied so the contracts need no OpenIddict reference.</summary>
public static class OAuthValues
{
    public const string Valid = "valid";
    public const string Inactive = "inactive";
    public const string Revoked = "revoked";
    public const string AdHoc = "ad-hoc";
}
