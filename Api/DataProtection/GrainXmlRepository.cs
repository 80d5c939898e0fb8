using System.Xml.Linq;
using Dovecote.Grains.Interfaces.DataProtection;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Dovecote.Api.DataProtection;

/// <summary>
/// The Data Protection key ring in the key ring grain, so every pod reads and writes the same keys and a cookie
/// protected by one pod unprotects on another.
/// </summary>
internal sealed class GrainXmlRepository(IGrainFactory grains) : IXmlRepository
{
    /// <summary>Long enough for a silo to come up; a hung cluster must fail the request rather than hold the thread.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private IKeyRingGrain KeyRing => grains.GetGrain<IKeyRingGrain>(IKeyRingGrain.DefaultKey);

    // IXmlRepository is synchronous, so these block on the grain call. That is safe here: the key manager calls them
    // from request threads (no synchronization context) and caches the ring, so they run only at start-up and on rotation.
    public IReadOnlyCollection<XElement> GetAllElements() =>
        KeyRing.GetAllAsync().WaitAsync(Timeout).GetAwaiter().GetResult().Select(xml => XElement.Parse(xml)).ToList();

    public void StoreElement(XElement element, string friendlyName) =>
        KeyRing.StoreAsync(element.ToString(SaveOptions.DisableFormatting), friendlyName).WaitAsync(Timeout).GetAwaiter().GetResult();
}

public static class GrainXmlRepositoryExtensions
{
    /// <summary>
    /// Keeps the Data Protection key ring in a grain, shared by every pod of the cluster. Needs an <see cref="IGrainFactory"/> in the container.
    /// </summary>
    public static IDataProtectionBuilder PersistKeysToGrains(this IDataProtectionBuilder builder)
    {
        builder.Services.AddOptions<KeyManagementOptions>().Configure<IServiceProvider>((options, services) =>
            options.XmlRepository = new GrainXmlRepository(services.GetRequiredService<IGrainFactory>()));
        return builder;
    }
}
