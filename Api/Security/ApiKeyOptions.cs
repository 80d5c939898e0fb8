using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace Dovecote.Api.Security;

/// <summary>Configured keys for tenant "default": DOVECOTE_API_KEYS, comma-separated.</summary>
public sealed class ApiKeyOptions
{
    /// <summary>Shorter keys are refused at start-up: the failure budget slows guessing, only length makes it hopeless.</summary>
    public const int MinKeyLength = 32;

    [ConfigurationKeyName("DOVECOTE_API_KEYS"), CustomValidation(typeof(ApiKeyOptions), nameof(CheckKeys))]
    public string? ConfiguredKeys { get; set; }

    private byte[][]? _digests;

    /// <summary>Hashed once: options are a singleton, while the handler is created for every request.</summary>
    internal byte[][] ConfiguredKeyDigests => _digests ??= Keys(ConfiguredKeys).Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k))).ToArray();

    /// <summary>Every key long enough; the message says which one by position, never by value.</summary>
    public static ValidationResult? CheckKeys(string? keys, ValidationContext context)
    {
        var list = Keys(keys);
        var shortOne = Array.FindIndex(list, k => k.Length < MinKeyLength);
        return shortOne < 0
            ? ValidationResult.Success
            : new ValidationResult(
                $"{context.DisplayName}: every key must be at least {MinKeyLength} characters (key {shortOne + 1} has {list[shortOne].Length})");
    }

    private static string[] Keys(string? keys) => (keys ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
