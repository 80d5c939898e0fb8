using System.Text.Encodings.Web;
using System.Text.Json;
using Orleans.Serialization;

namespace Dovecote.Grains.Storage;

/// <summary>How grain state is written as JSON: the byte budgets (<see cref="Channels.Delivery.StoredSize"/>) count on it.</summary>
public static class StorageJson
{
    /// <summary>
    /// Stored state is read back only by Dovecote and never placed in a page, so text is written as UTF-8 instead of
    /// "\uXXXX" escapes: a Cyrillic or CJK message takes 2–3 bytes a character stored, not 6.
    /// </summary>
    public static void Configure(SystemTextJsonGrainStorageSerializerOptions options) =>
        options.JsonSerializerOptions.Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    /// <summary>The options the silo's grain storage serializer uses.</summary>
    public static JsonSerializerOptions Options()
    {
        var options = new SystemTextJsonGrainStorageSerializerOptions();
        Configure(options);
        return options.JsonSerializerOptions;
    }
}
