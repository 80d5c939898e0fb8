namespace Dovecote.Grains.Storage;

/// <summary>A compare-and-set on the <see cref="GrainStateLog"/> found a different ETag than the caller expected.</summary>
public sealed class ETagMismatchException(string key, string? expectedETag, string? actualETag)
    : Exception($"ETag mismatch for '{key}': expected {Describe(expectedETag)}, stored {Describe(actualETag)}.")
{
    public string Key { get; } = key;

    public string? ExpectedETag { get; } = expectedETag;

    public string? ActualETag { get; } = actualETag;

    private static string Describe(string? etag) => etag is null ? "none" : $"'{etag}'";
}
