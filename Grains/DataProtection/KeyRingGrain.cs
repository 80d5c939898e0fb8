using Dovecote.Grains.Interfaces.DataProtection;
using Dovecote.Grains.Security;
using Dovecote.Grains.Storage;

namespace Dovecote.Grains.DataProtection;

/// <summary>
/// The Data Protection key ring. A few elements a quarter (a key every 90 days, plus revocations), so one grain
/// holding them all is plenty. Elements hold key material, so they are encrypted at rest like channel secrets
/// (AES-GCM under DOVECOTE_SECRETS_KEY, bound to the element's name).
/// </summary>
[GrainType("dp-keyring")]
public sealed class KeyRingGrain(
    [PersistentState("dp-keyring")] IPersistentState<KeyRingState> state,
    SecretProtector secrets) : Grain, IKeyRingGrain
{
    Task<List<string>> IKeyRingGrain.GetAllAsync() =>
        Task.FromResult(state.State.Elements.Select(e => secrets.Unprotect(e.Xml, BoundTo(e.FriendlyName))).ToList());

    async Task IKeyRingGrain.StoreAsync(string xml, string friendlyName)
    {
        ArgumentException.ThrowIfNullOrEmpty(xml);
        state.State.Elements.RemoveAll(e => e.FriendlyName == friendlyName);
        state.State.Elements.Add(new KeyRingElement { FriendlyName = friendlyName, Xml = secrets.Protect(xml, BoundTo(friendlyName)) });
        await state.WriteOrReloadAsync(this);
    }

    private string BoundTo(string friendlyName) => $"{this.GetPrimaryKeyString()}/{friendlyName}";
}
