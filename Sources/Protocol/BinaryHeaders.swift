// BinaryHeaders: the fixed big-endian headers of METRICS (frame 2) and CHUNK/DATA (frame 2, payload in frame 3).
import Foundation

/// The METRICS header: cell (32 raw bytes), attempt, seq, epoch (u32), val_macro_f1, val_loss, train_loss,
/// seconds (f64), record length L (u32), then the L bytes of the epoch record. Total size 80 + L.
public enum MetricsLayout {
    /// Bytes before the record.
    public static let fixedSize = 80

    /// The header bytes of `report`. The cell id must be 64 hex digits (32 zero bytes are written otherwise);
    /// counters outside 0…2³²−1 are clamped to that range.
    public static func encode(_ report: MetricsReport) -> [UInt8] {
        let record = Array(report.record.utf8)
        var writer = BinaryWriter(capacity: fixedSize + record.count)
        writer.write(bytes: Hex.digestBytes(report.cell) ?? [UInt8](repeating: 0, count: 32))
        writer.write(UInt32(clamping: report.attempt))
        writer.write(UInt32(clamping: report.seq))
        writer.write(UInt32(clamping: report.epoch))
        writer.write(report.valMacroF1)
        writer.write(report.valLoss)
        writer.write(report.trainLoss)
        writer.write(report.seconds)
        writer.write(UInt32(clamping: record.count))
        writer.write(bytes: record)
        return writer.bytes
    }

    /// Decodes a METRICS header; the record must be one UTF-8 JSON object without a newline.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> MetricsReport {
        var reader = BinaryReader(bytes)
        do {
            let cell = Hex.encode(try reader.readBytes(32, field: "cell"))
            let attempt = try reader.readUInt32(field: "attempt")
            let seq = try reader.readUInt32(field: "seq")
            let epoch = try reader.readUInt32(field: "epoch")
            let f1 = try reader.readDouble(field: "val_macro_f1")
            let valLoss = try reader.readDouble(field: "val_loss")
            let trainLoss = try reader.readDouble(field: "train_loss")
            let seconds = try reader.readDouble(field: "seconds")
            let length = try reader.readUInt32(field: "record length")
            guard Int(length) == reader.remaining else {
                throw DecodeError.malformedHeader(
                    "METRICS header: record length \(length) but \(reader.remaining) bytes follow")
            }
            let recordBytes = try reader.readBytes(Int(length), field: "record")
            let record = try recordText(recordBytes)
            return MetricsReport(
                cell: cell, attempt: Int(attempt), seq: Int(seq), epoch: Int(epoch), valMacroF1: f1, valLoss: valLoss,
                trainLoss: trainLoss, seconds: seconds, record: record)
        } catch let error as BinaryReadError {
            throw .malformedHeader("METRICS header truncated: \(error)")
        } catch let error as DecodeError {
            throw error
        } catch {
            throw .malformedHeader("METRICS header: \(error)")
        }
    }

    private static func recordText(_ bytes: [UInt8]) throws(DecodeError) -> String {
        guard !bytes.contains(0x0A) else { throw .malformedHeader("METRICS record: contains a newline") }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .malformedHeader("METRICS record: not valid UTF-8")
        }
        let object = try? JSONSerialization.jsonObject(with: Data(bytes))
        guard object is [String: Any] else { throw .malformedHeader("METRICS record: not a JSON object") }
        return text
    }
}

/// The CHUNK/DATA header: the file's SHA-256 (32 raw bytes), offset (u64), total size (u64), payload length (u32).
public enum ChunkLayout {
    /// Exact header size.
    public static let headerSize = 52

    /// The header bytes of `chunk`. The SHA-256 must be 64 hex digits (32 zero bytes are written otherwise);
    /// negative offsets or sizes are written as 0.
    public static func encodeHeader(_ chunk: FileChunk) -> [UInt8] {
        encodeHeader(
            sha256: chunk.sha256, offset: chunk.offset, totalSize: chunk.totalSize, length: chunk.payload.count)
    }

    /// The header of a chunk of `length` payload bytes, for a payload that travels as its own `ZMQPayload`.
    public static func encodeHeader(sha256: String, offset: Int64, totalSize: Int64, length: Int) -> [UInt8] {
        var writer = BinaryWriter(capacity: headerSize)
        writer.write(bytes: Hex.digestBytes(sha256) ?? [UInt8](repeating: 0, count: 32))
        writer.write(UInt64(clamping: offset))
        writer.write(UInt64(clamping: totalSize))
        writer.write(UInt32(clamping: length))
        return writer.bytes
    }

    /// Decodes a header and its payload frame; `name` (CHUNK or DATA) labels errors.
    public static func decode(header: [UInt8], payload: FrameBytes, name: String) throws(DecodeError) -> FileChunk {
        guard header.count == headerSize else {
            throw .malformedHeader("\(name) header: \(header.count) bytes, expected \(headerSize)")
        }
        var reader = BinaryReader(header)
        do {
            let sha = Hex.encode(try reader.readBytes(32, field: "sha256"))
            let offset = try reader.readUInt64(field: "offset")
            let total = try reader.readUInt64(field: "total size")
            let length = try reader.readUInt32(field: "payload length")
            guard Int(length) == payload.count else {
                throw DecodeError.malformedHeader(
                    "\(name) header: payload length \(length) but frame 3 has \(payload.count) bytes")
            }
            guard offset <= UInt64(Int64.max), total <= UInt64(Int64.max) else {
                throw DecodeError.malformedHeader("\(name) header: offset or total size beyond 2^63-1")
            }
            guard offset <= total, UInt64(length) <= total - offset else {
                throw DecodeError.malformedHeader(
                    "\(name) header: offset \(offset) + length \(length) exceeds total size \(total)")
            }
            return FileChunk(sha256: sha, offset: Int64(offset), totalSize: Int64(total), payload: payload)
        } catch let error as BinaryReadError {
            throw .malformedHeader("\(name) header truncated: \(error)")
        } catch let error as DecodeError {
            throw error
        } catch {
            throw .malformedHeader("\(name) header: \(error)")
        }
    }
}
