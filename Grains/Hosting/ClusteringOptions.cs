using System.ComponentModel.DataAnnotations;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;

namespace Dovecote.Grains.Hosting;

/// <summary>Where the cluster keeps its membership, reminders and grain state: DOVECOTE_CLUSTERING and its connection strings.</summary>
public sealed class ClusteringOptions
{
    public const string Localhost = "localhost";
    public const string Azure = "azure";
    public const string Redis = "redis";

    /// <summary>"localhost" (embedded: one process, local files), "azure" (Table storage) or "redis".</summary>
    [ConfigurationKeyName("DOVECOTE_CLUSTERING"), Required, AllowedValues(Localhost, Azure, Redis,
        ErrorMessage = "DOVECOTE_CLUSTERING must be localhost, azure or redis")]
    public string Mode { get; set; } = Localhost;

    /// <summary>An Azure Storage connection string (Azurite's works too).</summary>
    [ConfigurationKeyName("DOVECOTE_AZURE_STORAGE"), CustomValidation(typeof(ClusteringOptions), nameof(CheckAzure))]
    public string? AzureStorageConnection { get; set; }

    /// <summary>A StackExchange.Redis configuration string, e.g. "redis:6379,password=...".</summary>
    [ConfigurationKeyName("DOVECOTE_REDIS"), CustomValidation(typeof(ClusteringOptions), nameof(CheckRedis))]
    public string? RedisConnection { get; set; }

    public bool IsLocalhost => Mode == Localhost;

    public static ValidationResult? CheckAzure(string? value, ValidationContext context) =>
        Check(value, context, Azure, "an Azure Storage connection string", v => new TableServiceClient(v));

    public static ValidationResult? CheckRedis(string? value, ValidationContext context) =>
        Check(value, context, Redis, "host:port[,password=...]", v => StackExchange.Redis.ConfigurationOptions.Parse(v));

    /// <summary>Parsed here so a bad value is named at start-up; the parser's message is left out, as it may quote the secret.</summary>
    private static ValidationResult? Check(string? value, ValidationContext context, string mode, string shape, Action<string> parse)
    {
        if (string.IsNullOrWhiteSpace(value))
            return context.ObjectInstance is ClusteringOptions options && options.Mode == mode
                ? new ValidationResult($"{context.DisplayName} is required when DOVECOTE_CLUSTERING is {mode} ({shape})")
                : ValidationResult.Success;
        try
        {
            parse(value);
            return ValidationResult.Success;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            return new ValidationResult($"{context.DisplayName} is not a valid connection string ({shape})");
        }
    }
}
