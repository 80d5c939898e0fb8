using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Dovecote.Grains.Hosting;

/// <summary>
/// The one way Dovecote reads configuration: an options class per concern, bound from the documented variables (root keys
/// named with [ConfigurationKeyName], or a section such as "Delivery"), checked with DataAnnotations when the host starts.
/// Each member is validated under the name an operator sets, so every failure names the variable to fix.
/// </summary>
public static class DovecoteOptionsExtensions
{
    /// <summary>
    /// Binds <typeparamref name="T"/> from <paramref name="configuration"/> and validates it on start. The first registration
    /// wins, so the silo and the Api wiring may both ask for options they share.
    /// </summary>
    public static OptionsBuilder<T> AddDovecoteOptions<T>(this IServiceCollection services, IConfiguration configuration) where T : class
    {
        var options = services.AddOptions<T>();
        if (services.Any(d => d.ServiceType == typeof(IValidateOptions<T>) && d.ImplementationInstance is VariableNamedValidation<T>))
            return options;
        services.AddSingleton<IValidateOptions<T>>(new VariableNamedValidation<T>(Prefix(configuration)));
        return options.Bind(configuration).ValidateOnStart();
    }

    /// <summary>
    /// For values needed before the host is built (clustering, OAuth keys): registers like <see cref="AddDovecoteOptions{T}"/>
    /// and returns the options bound and validated now by the same rules, throwing InvalidOperationException on a bad value.
    /// </summary>
    public static T AddDovecoteOptionsNow<T>(this IServiceCollection services, IConfiguration configuration) where T : class, new()
    {
        services.AddDovecoteOptions<T>(configuration);
        var options = new T();
        configuration.Bind(options);
        var problems = Problems(options, Prefix(configuration));
        return problems.Count == 0 ? options : throw new InvalidOperationException(string.Join("; ", problems));
    }

    /// <summary>Each member is checked with its variable as the display name, so "{0}" in a message is the variable.</summary>
    private static List<string> Problems(object options, string prefix)
    {
        var problems = new List<string>();
        foreach (var property in options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (!property.IsDefined(typeof(ValidationAttribute), inherit: true)) continue;
            var variable = prefix + (property.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name ?? property.Name);
            var context = new ValidationContext(options) { MemberName = property.Name, DisplayName = variable };
            var results = new List<ValidationResult>();
            if (!Validator.TryValidateProperty(property.GetValue(options), context, results))
                problems.AddRange(results.Select(r => r.ErrorMessage ?? $"{variable} is not valid"));
        }
        return problems;
    }

    /// <summary>"Delivery__" for the section "Delivery": the environment variable form the README documents.</summary>
    private static string Prefix(IConfiguration configuration) =>
        configuration is IConfigurationSection { Path.Length: > 0 } section ? section.Path.Replace(":", "__") + "__" : "";

    private sealed class VariableNamedValidation<T>(string prefix) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            if (name != Options.DefaultName) return ValidateOptionsResult.Skip;
            var problems = Problems(options, prefix);
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
