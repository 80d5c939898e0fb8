using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace Dovecote.Api.Accounts;

/// <summary>People's sessions and the operator's sign-up switch.</summary>
public sealed class AccountOptions
{
    /// <summary>"true" lets a person with no tenant create one by signing in upstream; off by default.</summary>
    [ConfigurationKeyName("DOVECOTE_SIGNUP")]
    public bool SignUp { get; set; }

    /// <summary>How long a session lasts without use; each use in its second half extends it (sliding).</summary>
    [ConfigurationKeyName("DOVECOTE_SESSION_LIFETIME"), Range(typeof(TimeSpan), "00:05:00", "30.00:00:00", ErrorMessage = "{0} must be 5 minutes to 30 days")]
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);
}
