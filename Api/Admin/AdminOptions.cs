using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace Dovecote.Api.Admin;

/// <summary>The operator token for /admin: ADMIN_TOKEN, or its older name ADMIN_REVOKE_TOKEN.</summary>
public sealed class AdminOptions
{
    /// <summary>Shorter tokens are refused at start-up: the failure budget slows guessing, only length makes it hopeless.</summary>
    public const int MinTokenLength = 32;

    [ConfigurationKeyName("ADMIN_TOKEN"), CustomValidation(typeof(AdminOptions), nameof(CheckToken))]
    public string? Token { get; set; }

    [ConfigurationKeyName("ADMIN_REVOKE_TOKEN"), CustomValidation(typeof(AdminOptions), nameof(CheckToken))]
    public string? RevokeToken { get; set; }

    public string? EffectiveToken => string.IsNullOrEmpty(Token) ? RevokeToken : Token;

    /// <summary>Unset (or empty) disables the admin API; set, it must be long enough. The message never echoes the token.</summary>
    public static ValidationResult? CheckToken(string? token, ValidationContext context) =>
        string.IsNullOrEmpty(token) || token.Length >= MinTokenLength
            ? ValidationResult.Success
            : new ValidationResult($"{context.DisplayName} must be at least {MinTokenLength} characters (it has {token.Length})");
}
