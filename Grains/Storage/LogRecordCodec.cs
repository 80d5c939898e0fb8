using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Dovecote.Grains.Storage;

internal enum LogOp : byte
{
    Write = 1,
    Delete = 2,

    // Last record of a snapshot file: its presence proves the snapshot was written completely.
    SnapshotEnd = 3,
}

internal readonly record struct LogRecord(LogOp Op, ulong Sequence, string Key, ReadOnlyMemory<byte> Data);

internal enum LogReadStatus
{
    Record,
    EndOfFile,
    Corrupt,
}

/// <summary>
/// Binary framing shared by WAL and snapshot files, all integers little-endian:
/// <c>[u32 body length][body][u32 CRC32 of length + body]</c>, where the body is
/// <c>[u8 op][u64 sequence][u32 key byte count][UTF-8 key][data]</c>.
/// </summary>
internal static class LogRecordCodec
{
    private const int LengthSize = 4;
    private const int CrcSize = 4;
    private const int FixedBodySize = 1 + 8 + 4;

    public static void Write(IBufferWriter<byte> output, in LogRecord record)
    {
        int keyLength = Encoding.UTF8.GetByteCount(record.Key);
        int bodyLength = checked(FixedBodySize + keyLength + record.Data.Length);
        int frameLength = checked(LengthSize + bodyLength + CrcSize);

        Span<byte> frame = output.GetSpan(frameLength)[..frameLength];
        BinaryPrimitives.WriteInt32LittleEndian(frame, bodyLength);
        Span<byte> body = frame.Slice(LengthSize, bodyLength);
        body[0] = (byte)record.Op;
        BinaryPrimitives.WriteUInt64LittleEndian(body[1..], record.Sequence);
        BinaryPrimitives.WriteInt32LittleEndian(body[9..], keyLength);
        Encoding.UTF8.GetBytes(record.Key, body.Slice(FixedBodySize, keyLength));
        record.Data.Span.CopyTo(body[(FixedBodySize + keyLength)..]);
        uint crc = Crc32.HashToUInt32(frame[..(LengthSize + bodyLength)]);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[(LengthSize + bodyLength)..], crc);
        output.Advance(frameLength);
    }

    /// <summary>
    /// Reads the record at the stream's position. <see cref="LogReadStatus.Corrupt"/> covers both a torn
    /// (partially written) tail and a bad checksum; the caller decides whether that is tolerable.
    /// </summary>
    public static LogReadStatus TryRead(Stream input, long fileLength, out LogRecord record)
    {
        record = default;
        long remaining = fileLength - input.Position;
        if (remaining == 0)
        {
            return LogReadStatus.EndOfFile;
        }

        if (remaining < LengthSize + FixedBodySize + CrcSize)
        {
            return LogReadStatus.Corrupt;
        }

        Span<byte> lengthBytes = stackalloc byte[LengthSize];
        input.ReadExactly(lengthBytes);
        int bodyLength = BinaryPrimitives.ReadInt32LittleEndian(lengthBytes);
        // Checked before allocating so a garbage length can't ask for gigabytes.
        if (bodyLength < FixedBodySize || bodyLength > remaining - LengthSize - CrcSize)
        {
            return LogReadStatus.Corrupt;
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(bodyLength + CrcSize);
        try
        {
            Span<byte> rest = rented.AsSpan(0, bodyLength + CrcSize);
            input.ReadExactly(rest);
            ReadOnlySpan<byte> body = rest[..bodyLength];

            var crc = new Crc32();
            crc.Append(lengthBytes);
            crc.Append(body);
            if (crc.GetCurrentHashAsUInt32() != BinaryPrimitives.ReadUInt32LittleEndian(rest[bodyLength..]))
            {
                return LogReadStatus.Corrupt;
            }

            var op = (LogOp)body[0];
            int keyLength = BinaryPrimitives.ReadInt32LittleEndian(body[9..]);
            if (!Enum.IsDefined(op) || keyLength < 0 || keyLength > bodyLength - FixedBodySize)
            {
                return LogReadStatus.Corrupt;
            }

            ulong sequence = BinaryPrimitives.ReadUInt64LittleEndian(body[1..]);
            string key = Encoding.UTF8.GetString(body.Slice(FixedBodySize, keyLength));
            byte[] data = body[(FixedBodySize + keyLength)..].ToArray();
            record = new LogRecord(op, sequence, key, data);
            return LogReadStatus.Record;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
