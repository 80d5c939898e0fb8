namespace Dovecote.Grains.Storage;

/// <summary>A live value in the <see cref="GrainStateLog"/> together with the ETag of the write that produced it.</summary>
public readonly record struct StoredValue(string ETag, ReadOnlyMemory<byte> Data);
