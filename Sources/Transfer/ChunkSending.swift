// ChunkSending: a CHUNK sent from its file's mapping (or read straight into the frame), with no copy of the payload.
import AblateSupport
import WireProtocol

/// Where CHUNK payloads come from: the file being streamed is mapped once (`MappedFile`) and each chunk is lent to
/// libzmq from the mapping, so the bytes go from the page cache to the socket with the kernel's one copy. The last
/// file mapped stays mapped until another is asked for or `forget` is called (when the coordinator has stored it).
/// Owned by the socket's thread.
public final class ChunkSource {
    private var mapped: MappedFile?

    public init() {}

    /// The bytes of `order`, lent from the mapping of its file.
    func payload(for order: ChunkOrder) throws -> ZMQPayload {
        let file: MappedFile
        if let mapped, mapped.path == order.path {
            file = mapped
        } else {
            mapped = nil
            file = try MappedFile(path: order.path)
            mapped = file
        }
        let end = order.offset + Int64(order.length)
        guard order.offset >= 0, order.length >= 0, end <= Int64(file.bytes.count) else {
            throw FileWriteError(
                path: order.path, detail: "ends at \(file.bytes.count), before the \(order.totalSize) bytes offered")
        }
        let bytes = UnsafeRawBufferPointer(rebasing: file.bytes[Int(order.offset)..<Int(end)])
        return try ZMQPayload(borrowing: bytes, owner: file)
    }

    /// Unmaps `path` (after its transfer ended; frames still queued keep their own reference to the mapping).
    public func forget(_ path: String) {
        if mapped?.path == path { mapped = nil }
    }
}

extension ZMQSocket {
    /// Sends `order` as one CHUNK (docs/protocol.md, item 9) lent from `source`'s mapping of the file.
    /// `corruptFirstByte` (the fault injection of the end-to-end tests) instead reads the bytes with `pread` into a
    /// `ZMQPayload` of its own and flips the first. Returns false, with `dontWait`, when the message cannot be queued
    /// now (`EAGAIN`). Throws `FileWriteError` when the file cannot be read or is shorter than offered, nothing being
    /// sent then.
    @discardableResult
    public func sendChunk(
        _ order: ChunkOrder, from source: ChunkSource, corruptFirstByte: Bool = false, dontWait: Bool = true
    ) throws -> Bool {
        let payload =
            corruptFirstByte ? try Self.readPayload(order, corruptFirstByte: true) : try source.payload(for: order)
        let head = MessageCodec.encodeChunkHead(
            sha256: order.sha256, offset: order.offset, totalSize: order.totalSize, length: order.length)
        return try send(head, then: payload, dontWait: dontWait)
    }

    /// `order`'s bytes read with `pread` into a frame libzmq allocated.
    static func readPayload(_ order: ChunkOrder, corruptFirstByte: Bool) throws -> ZMQPayload {
        let payload = try ZMQPayload(count: order.length)
        try payload.withUnsafeMutableBytes { (bytes) throws(FileWriteError) in
            let read = try readChunk(order.path, offset: order.offset, into: bytes)
            guard read == bytes.count else {
                throw FileWriteError(
                    path: order.path,
                    detail: "ends at \(order.offset + Int64(read)), before the \(order.totalSize) bytes offered")
            }
            if corruptFirstByte, !bytes.isEmpty { bytes[0] ^= 0xFF }
        }
        return payload
    }
}

/// One piece of a file to send as CHUNK.
public struct ChunkOrder: Sendable, Equatable {
    public var sha256: String
    public var path: String
    public var offset: Int64
    public var length: Int
    public var totalSize: Int64

    public init(sha256: String, path: String, offset: Int64, length: Int, totalSize: Int64) {
        self.sha256 = sha256
        self.path = path
        self.offset = offset
        self.length = length
        self.totalSize = totalSize
    }
}
