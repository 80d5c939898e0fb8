using System.Text.RegularExpressions;

namespace Dovecote.Grains.Interfaces.Tenants;

/// <summary>Env profile names: checked before anything is looked up or audited under one.</summary>
public static partial class EnvProfileNames
{
    public const string Rule = "an env profile name is 1 to 64 letters, digits, '.', '_' or '-'";

    public static bool IsValid(string? profile) => profile is not null && Pattern().IsMatch(profile);

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,64}\z")]
    private static partial Regex Pattern();
}
