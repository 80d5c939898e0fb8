using System.ComponentModel.DataAnnotations;

namespace Dovecote.Grains.Security;

/// <summary>A key given as base64: exactly <see cref="Bytes"/> bytes, or at least that many with <see cref="OrLonger"/>. Unset is valid.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class Base64KeyAttribute(int bytes) : ValidationAttribute
{
    public int Bytes => bytes;

    public bool OrLonger { get; set; }

    protected override ValidationResult? IsValid(object? value, ValidationContext context) =>
        value is not string text || Decode(text, bytes, OrLonger) is not null
            ? ValidationResult.Success
            : new ValidationResult($"{context.DisplayName} must be the base64 of {(OrLonger ? "at least " : "")}{bytes} bytes");

    /// <summary>The key's bytes, or null when <paramref name="base64"/> is not a key of the required length.</summary>
    public static byte[]? Decode(string base64, int bytes, bool orLonger = false)
    {
        var buffer = new byte[base64.Length];
        return Convert.TryFromBase64String(base64.Trim(), buffer, out var length) && (orLonger ? length >= bytes : length == bytes) ? buffer[..length] : null;
    }
}
