using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;

namespace Dovecote.Api.OAuth.Stores;

/// <summary>
/// Conversions between OpenIddict's accessor types and the grain entities' plain fields (raw JSON, culture names),
/// and the grain answers that mean "someone else changed it first".
/// </summary>
internal static class StoreValues
{
    public static ImmutableDictionary<string, JsonElement> ReadProperties(string? json)
    {
        if (string.IsNullOrEmpty(json)) return ImmutableDictionary<string, JsonElement>.Empty;
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateObject().ToImmutableDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
    }

    public static string? WriteProperties(ImmutableDictionary<string, JsonElement>? properties) =>
        properties is null || properties.IsEmpty ? null : JsonSerializer.Serialize(properties);

    /// <summary>Skips culture names this process cannot load: with InvariantGlobalization only the invariant culture exists.</summary>
    public static ImmutableDictionary<CultureInfo, string> ReadCultures(Dictionary<string, string> values)
    {
        var cultures = ImmutableDictionary.CreateBuilder<CultureInfo, string>();
        foreach (var (name, value) in values)
        {
            try { cultures[CultureInfo.GetCultureInfo(name)] = value; }
            catch (CultureNotFoundException) { }
        }
        return cultures.ToImmutable();
    }

    public static Dictionary<string, string> WriteCultures(ImmutableDictionary<CultureInfo, string>? values) =>
        values?.ToDictionary(v => v.Key.Name, v => v.Value, StringComparer.Ordinal) ?? [];

    public static List<string> WriteList(ImmutableArray<string> values) => values.IsDefault ? [] : [.. values];

    /// <summary>The grain's new concurrency token, copied onto the caller's instance; a null answer means a stale copy.</summary>
    public static string Updated(string? concurrencyToken, string what) =>
        concurrencyToken ?? throw new OpenIddictExceptions.ConcurrencyException(
            $"The {what} was changed or deleted by another request; reload it and try again.");

    public static void Deleted(bool deleted, string what)
    {
        if (!deleted) throw new OpenIddictExceptions.ConcurrencyException($"The {what} was changed or deleted by another request; reload it and try again.");
    }

    public static string NewId() => Guid.NewGuid().ToString("N");

    /// <summary>
    /// The id a new authorization or token is stored under: a fresh one, or the caller's if it is a verbatim grain key part,
    /// so the entity's grain key is its id and every index entry (which holds grain keys) names it.
    /// </summary>
    public static string IdOrNew(string? id) =>
        string.IsNullOrEmpty(id) ? NewId()
        : GrainKeys.IsVerbatim(id) ? id
        : throw new ArgumentException($"An id must be 1 to {GrainKeys.MaxVerbatimLength} characters of [A-Za-z0-9._-].", nameof(id));

    /// <summary>Loads the entities behind <paramref name="ids"/>, skipping index entries whose entity is gone.</summary>
    public static async IAsyncEnumerable<T> LoadAsync<T>(IEnumerable<string> ids, Func<string, Task<T?>> load,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken) where T : class
    {
        foreach (var id in ids)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await load(id) is { } entity) yield return entity;
        }
    }
}
