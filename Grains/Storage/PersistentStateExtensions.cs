namespace Dovecote.Grains.Storage;

public static class PersistentStateExtensions
{
    /// <summary>
    /// Writes the state. If the write fails, the in-memory state may be ahead of storage, so the activation is
    /// dropped and the next call reloads what was really stored.
    /// </summary>
    public static async Task WriteOrReloadAsync<T>(this IPersistentState<T> state, IGrainBase grain)
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            grain.DeactivateOnIdle();
            throw;
        }
    }
}
