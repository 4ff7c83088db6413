// ChunkSending: a CHUNK read from its file straight into the frame libzmq sends, with no copy of the payload.
import AblateSupport
import WireProtocol

extension ZMQSocket {
    /// Sends `order` as one CHUNK (docs/protocol.md, item 9): its bytes are read with `pread` into a `ZMQPayload`,
    /// which libzmq sends from without copying it. `corruptFirstByte` flips the payload's first byte (the fault
    /// injection of the end-to-end tests). Returns false, with `dontWait`, when the message cannot be queued now (`EAGAIN`). Throws
    /// `FileWriteError` when the file cannot be read or is shorter than offered, nothing being sent then.
    @discardableResult
    public func sendChunk(_ order: ChunkOrder, corruptFirstByte: Bool = false, dontWait: Bool = true) throws -> Bool {
        let payload = try ZMQPayload(count: order.length)
        try payload.withUnsafeMutableBytes { (bytes) throws(FileWriteError) in
            let read = try readChunk(order.path, offset: order.offset, into: bytes)
            guard read == bytes.count else {
                throw FileWriteError(path: order.path, detail: "ends at \(order.offset + Int64(read)), before the \(order.totalSize) bytes offered")
            }
            if corruptFirstByte, !bytes.isEmpty { bytes[0] ^= 0xFF }
        }
        let head = MessageCodec.encodeChunkHead(sha256: order.sha256, offset: order.offset, totalSize: order.totalSize, length: order.length)
        return try send(head, then: payload, dontWait: dontWait)
    }
}
