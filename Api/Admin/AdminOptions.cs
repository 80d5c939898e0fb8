using Microsoft.Extensions.Configuration;

namespace Dovecote.Api.Admin;

/// <summary>The operator token for /admin: ADMIN_TOKEN, or its older name ADMIN_REVOKE_TOKEN.</summary>
public sealed class AdminOptions
{
    [ConfigurationKeyName("ADMIN_TOKEN")]
    public string? Token { get; set; }

    [ConfigurationKeyName("ADMIN_REVOKE_TOKEN")]
    public string? RevokeToken { get; set; }

    public string? EffectiveToken => string.IsNullOrEmpty(Token) ? RevokeToken : Token;
}
