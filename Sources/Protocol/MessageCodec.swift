// MessageCodec: a Message to and from its frames (signature, command, header, optional payload).
import Foundation

/// Encodes and decodes protocol messages. Frames never include a ROUTER's routing id.
public enum MessageCodec {
    /// The frames of `message`: signature, command byte, header, and for CHUNK, DATA and UPLOAD the payload.
    ///
    /// JSON headers use snake_case keys, sorted. Binary headers need ids and hashes as 64 hex digits (see
    /// `MetricsLayout` and `ChunkLayout`).
    public static func encode(_ message: Message) -> [[UInt8]] {
        let head = [ProtocolVersion.signature, [message.command.rawValue]]
        switch message {
        case .metrics(let report): return head + [MetricsLayout.encode(report)]
        case .chunk(let chunk), .data(let chunk), .upload(let chunk):
            return head + [ChunkLayout.encodeHeader(chunk), chunk.payload.array]
        case .hello(let body): return head + [json(body)]
        case .welcome(let body): return head + [json(body)]
        case .heartbeat(let body): return head + [json(body)]
        case .assign(let body): return head + [json(body)]
        case .metricsAck(let body): return head + [json(body)]
        case .offer(let body): return head + [json(body)]
        case .credit(let body): return head + [json(body)]
        case .stored(let body): return head + [json(body)]
        case .fetch(let body): return head + [json(body)]
        case .fetchError(let body): return head + [json(body)]
        case .done(let body): return head + [json(body)]
        case .doneAck(let body): return head + [json(body)]
        case .failed(let body): return head + [json(body)]
        case .cancel(let body): return head + [json(body)]
        case .release(let body): return head + [json(body)]
        case .disconnect(let body): return head + [json(body)]
        case .statusRequest(let body): return head + [json(body)]
        case .statusReply(let body): return head + [json(body)]
        case .log(let body): return head + [json(body)]
        case .control(let body): return head + [json(body)]
        case .controlReply(let body): return head + [json(body)]
        case .submit(let body): return head + [json(body)]
        case .submitReply(let body): return head + [json(body)]
        case .uploadAck(let body): return head + [json(body)]
        }
    }

    /// The first three frames of a CHUNK (or DATA, with `data`) whose payload of `length` bytes follows as a
    /// `ZMQPayload`: with that payload as the fourth frame, the message is the one `encode` gives for the same chunk.
    public static func encodeChunkHead(sha256: String, offset: Int64, totalSize: Int64, length: Int, data: Bool = false)
        -> [[UInt8]]
    {
        [
            ProtocolVersion.signature, [(data ? Command.data : Command.chunk).rawValue],
            ChunkLayout.encodeHeader(sha256: sha256, offset: offset, totalSize: totalSize, length: length),
        ]
    }

    /// Decodes one message, refusing anything malformed with the first problem found, checked in this order:
    /// at least one frame; signature and version; command byte; frame count for the command; frame sizes against
    /// `limits`; then the header's content.
    public static func decode(_ frames: [[UInt8]], limits: FrameLimits = .init()) throws(DecodeError) -> Message {
        try decode(frames.map(FrameBytes.init), limits: limits)
    }

    /// `decode` for frames as `ZMQSocket.receiveFrames` gives them: a CHUNK's or DATA's payload stays in the
    /// received message; every other frame is read as an array.
    public static func decode(_ frames: [FrameBytes], limits: FrameLimits = .init()) throws(DecodeError) -> Message {
        guard let signature = frames.first else { throw .empty }
        guard signature.count == ProtocolVersion.signature.count else { throw .wrongSignature }
        try checkSignature(signature.array)
        guard frames.count >= 2 else { throw .missingCommand }
        guard frames[1].count == 1 else { throw .commandFrameSize(frames[1].count) }
        let commandByte = frames[1].array[0]
        guard let command = Command(rawValue: commandByte) else { throw .unknownCommand(commandByte) }
        guard frames.count == command.frameCount else {
            throw .wrongFrameCount(command: command, count: frames.count)
        }
        let headerLimit = command.hasBinaryHeader ? limits.maxFrameBytes : limits.maxJSONBytes
        guard frames[2].count <= headerLimit else { throw .frameTooLarge(index: 2, size: frames[2].count) }
        if command.hasPayload, frames[3].count > limits.maxChunkBytes {
            throw .frameTooLarge(index: 3, size: frames[3].count)
        }
        let message = try decodeBody(command, header: frames[2].array, payload: command.hasPayload ? frames[3] : nil)
        try MessageValidation.check(message, limits: limits)
        return message
    }

    private static func checkSignature(_ frame: [UInt8]) throws(DecodeError) {
        let expected = ProtocolVersion.signature
        guard frame.count == expected.count, frame[0..<3].elementsEqual(expected[0..<3]) else {
            throw .wrongSignature
        }
        guard frame[3] == ProtocolVersion.major else { throw .unsupportedVersion(frame[3]) }
    }

    private static func decodeBody(_ command: Command, header: [UInt8], payload: FrameBytes?) throws(DecodeError)
        -> Message
    {
        switch command {
        case .metrics: return .metrics(try MetricsLayout.decode(header))
        case .chunk:
            return .chunk(try ChunkLayout.decode(header: header, payload: payload ?? FrameBytes([]), name: "CHUNK"))
        case .data:
            return .data(try ChunkLayout.decode(header: header, payload: payload ?? FrameBytes([]), name: "DATA"))
        case .hello: return .hello(try json(header, command))
        case .welcome: return .welcome(try json(header, command))
        case .heartbeat: return .heartbeat(try json(header, command))
        case .assign: return .assign(try json(header, command))
        case .metricsAck: return .metricsAck(try json(header, command))
        case .offer: return .offer(try json(header, command))
        case .credit: return .credit(try json(header, command))
        case .stored: return .stored(try json(header, command))
        case .fetch: return .fetch(try json(header, command))
        case .fetchError: return .fetchError(try json(header, command))
        case .done: return .done(try json(header, command))
        case .doneAck: return .doneAck(try json(header, command))
        case .failed: return .failed(try json(header, command))
        case .cancel: return .cancel(try json(header, command))
        case .release: return .release(try json(header, command))
        case .disconnect: return .disconnect(try json(header, command))
        case .statusRequest: return .statusRequest(try json(header, command))
        case .statusReply: return .statusReply(try json(header, command))
        case .log: return .log(try json(header, command))
        case .control: return .control(try json(header, command))
        case .controlReply: return .controlReply(try json(header, command))
        case .submit: return .submit(try json(header, command))
        case .submitReply: return .submitReply(try json(header, command))
        case .upload:
            return .upload(try ChunkLayout.decode(header: header, payload: payload ?? FrameBytes([]), name: "UPLOAD"))
        case .uploadAck: return .uploadAck(try json(header, command))
        }
    }

    // MARK: - JSON headers

    private static func json(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = .sortedKeys
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        // With non-finite floats written as strings, encoding these plain structs cannot fail.
        return (try? Array(encoder.encode(value))) ?? Array("{}".utf8)
    }

    private static func json<T: Decodable>(_ bytes: [UInt8], _ command: Command) throws(DecodeError) -> T {
        let name = command.wireName
        guard bytes.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{") else {
            throw .malformedHeader("\(name) header: not a JSON object")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        do {
            return try decoder.decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw .malformedHeader("\(name) header: \(describe(error))")
        } catch {
            throw .malformedHeader("\(name) header: \(error)")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field '\(path(context.codingPath + [key]))'"
        case .valueNotFound(_, let context):
            return "field '\(path(context.codingPath))' is null"
        case .typeMismatch(let type, let context):
            return "field '\(path(context.codingPath))' is not \(typeName(type))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "not valid JSON" : "field '\(path(context.codingPath))' has an invalid value"
        @unknown default:
            return "invalid JSON"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        var text = ""
        for key in keys {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += (text.isEmpty ? "" : ".") + snakeCase(key.stringValue)
            }
        }
        return text
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is UInt64.Type: "an integer"
        case is Double.Type: "a number"
        default: "of the expected type"
        }
    }

    /// `codeVersion` → `code_version`, as the encoder writes keys.
    static func snakeCase(_ key: String) -> String {
        var out = ""
        for character in key {
            if character.isUppercase {
                if !out.isEmpty { out += "_" }
                out += character.lowercased()
            } else {
                out.append(character)
            }
        }
        return out
    }
}
