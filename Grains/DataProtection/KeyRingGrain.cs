using Dovecote.Grains.Interfaces.DataProtection;
using Dovecote.Grains.Storage;

namespace Dovecote.Grains.DataProtection;

/// <summary>
/// The Data Protection key ring. A few elements a quarter (a key every 90 days, plus revocations), so one grain
/// holding them all is plenty. Elements are stored as written; protecting them at rest is the key manager's job.
/// </summary>
[GrainType("dp-keyring")]
public sealed class KeyRingGrain(
    [PersistentState("dp-keyring")] IPersistentState<KeyRingState> state) : Grain, IKeyRingGrain
{
    Task<List<string>> IKeyRingGrain.GetAllAsync() => Task.FromResult(state.State.Elements.Select(e => e.Xml).ToList());

    async Task IKeyRingGrain.StoreAsync(string xml, string friendlyName)
    {
        ArgumentException.ThrowIfNullOrEmpty(xml);
        state.State.Elements.RemoveAll(e => e.FriendlyName == friendlyName);
        state.State.Elements.Add(new KeyRingElement { FriendlyName = friendlyName, Xml = xml });
        await state.WriteOrReloadAsync(this);
    }
}
