// CodecFuzzTests: 100,000 random and mutated frame sets decode without crashing, leaking or stalling; names and limits fuzzed.
import Foundation
import WireProtocol
import XCTest

/// A small deterministic generator (SplitMix64) so every run fuzzes the same inputs.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Mutates valid encodings (flip, truncate, extend, duplicate, drop, reorder frames) and generates random frame
/// sets; every one must decode or throw a `DecodeError`, memory must stay flat and the run must stay quick.
final class CodecFuzzTests: XCTestCase {
    private static let iterations = 100_000
    private var random = SeededGenerator(seed: 0xAB1A7E)
    private let corpus = Samples.all.map(MessageCodec.encode)
    private let jsonBytes = Array(#"{}[]":,-0123456789eE.tfnul\ "#.utf8)

    private func randomBytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
    }

    private func mutated() -> [[UInt8]] {
        var frames = corpus[Int.random(in: 0..<corpus.count, using: &random)]
        let rounds = Int.random(in: 1...3, using: &random)
        for _ in 0..<rounds {
            // Mostly the header and payload, so that most inputs get past the framing checks.
            let index =
                frames.count > 2 && Int.random(in: 0..<10, using: &random) < 7
                ? Int.random(in: 2..<frames.count, using: &random) : Int.random(in: 0..<frames.count, using: &random)
            switch Int.random(in: 0..<10, using: &random) {
            case 0:  // flip a byte
                if !frames[index].isEmpty {
                    let at = Int.random(in: 0..<frames[index].count, using: &random)
                    frames[index][at] ^= UInt8.random(in: 1...255, using: &random)
                }
            case 1:  // put a JSON-significant byte somewhere
                if !frames[index].isEmpty {
                    let at = Int.random(in: 0..<frames[index].count, using: &random)
                    frames[index][at] = jsonBytes[Int.random(in: 0..<jsonBytes.count, using: &random)]
                }
            case 2:  // truncate
                frames[index] = Array(frames[index].prefix(Int.random(in: 0...frames[index].count, using: &random)))
            case 3:  // extend
                frames[index] += randomBytes(Int.random(in: 1...16, using: &random))
            case 4:  // duplicate a frame
                frames.insert(frames[index], at: index)
            case 5:  // drop a frame
                if frames.count > 1 { frames.remove(at: index) }
            case 6:  // another command byte
                if frames.count > 1 { frames[1] = [UInt8.random(in: 0...22, using: &random)] }
            case 7:  // swap two frames
                frames.swapAt(index, Int.random(in: 0..<frames.count, using: &random))
            case 8:  // flip a bit in the binary part of a header (lengths, offsets)
                if frames.count > 2, !frames[2].isEmpty {
                    let at = Int.random(in: 0..<min(frames[2].count, 84), using: &random)
                    frames[2][at] ^= 1 << UInt8.random(in: 0...7, using: &random)
                }
            default:  // splice a random chunk into the middle
                let at = Int.random(in: 0...frames[index].count, using: &random)
                frames[index].insert(contentsOf: randomBytes(Int.random(in: 1...8, using: &random)), at: at)
            }
        }
        return frames
    }

    private func randomFrames() -> [[UInt8]] {
        let count = Int.random(in: 0...5, using: &random)
        var frames = (0..<count).map { _ in randomBytes(Int.random(in: 0...64, using: &random)) }
        if !frames.isEmpty, Bool.random(using: &random) { frames[0] = ProtocolVersion.signature }
        return frames
    }

    private var reasons = DropCounters()
    private var decoded = 0

    private func run(_ count: Int) {
        for iteration in 0..<count {
            let frames = iteration % 5 == 0 ? randomFrames() : mutated()
            do {
                _ = try MessageCodec.decode(frames)
                decoded += 1
            } catch {
                reasons.record(error)
            }
        }
    }

    private func residentBytes() throws -> Int {
        let text = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8)
        let fields = text.split(separator: " ")
        let pages = try XCTUnwrap(Int(fields[1]))
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    func testDecoderSurvivesMutatedAndRandomInput() throws {
        let start = Date()
        run(Self.iterations / 2)
        let before = try residentBytes()
        run(Self.iterations / 2)
        let after = try residentBytes()
        let seconds = Date().timeIntervalSince(start)

        XCTAssertEqual(decoded + reasons.total, Self.iterations)
        for reason in ["frames", "signature", "version", "command", "header"] {
            XCTAssertGreaterThan(reasons[reason], 0, "no input reached the '\(reason)' check")
        }
        XCTAssertGreaterThan(decoded, 100, "mutations should sometimes stay valid")
        XCTAssertLessThan(after - before, 4 << 20, "resident memory grew by \(after - before) bytes in 50,000 decodes")
        XCTAssertLessThan(seconds, 15, "fuzzing took \(seconds) s")
        print(
            "fuzz: \(decoded) decoded, drops \(reasons.counts.sorted { $0.key < $1.key }), \(seconds) s, "
                + "resident +\(after - before) bytes")
    }

    func testOversizeFramesAreRefusedBySize() {
        let limits = FrameLimits(maxChunkBytes: 64, maxJSONBytes: 64)
        var refused = 0
        let padding = [UInt8](repeating: 0x20, count: 65_600)
        for frames in corpus {
            var frames = frames
            frames[2] += padding
            do {
                _ = try MessageCodec.decode(frames, limits: limits)
            } catch {
                XCTAssertEqual(error.reason, "size")
                refused += 1
            }
        }
        XCTAssertEqual(refused, corpus.count)
    }

    // MARK: - Names, oversized and non-finite fields

    private let nameAlphabet: [String] = [
        "a", "Z", "0", "9", ".", "..", "_", "-", "/", "\\", " ", "\u{0}", "\n", "é", "h5",
        "metrics.jsonl", "summary.json", "attempt-", "1", ".log", "~", "%2e",
    ]

    private func randomName() -> String {
        switch Int.random(in: 0..<10, using: &random) {
        case 0: return String(repeating: "n", count: Int.random(in: 120...300, using: &random))
        case 1:
            return ["", ".", "..", "metrics.jsonl", "summary.json", "attempt-3.log", "last.h5", "../last.h5"][
                Int.random(in: 0..<8, using: &random)]
        default:
            return (0..<Int.random(in: 0...8, using: &random)).map { _ in
                nameAlphabet[Int.random(in: 0..<nameAlphabet.count, using: &random)]
            }.joined()
        }
    }

    /// The rule of docs/protocol.md ("Names"), written here independently of `PeerNames` (`\z`: `$` would also
    /// match before a final newline).
    private func followsNameRule(_ name: String) -> Bool {
        guard name.range(of: "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}\\z", options: .regularExpression) != nil else {
            return false
        }
        return name != "metrics.jsonl" && name != "summary.json"
            && name.range(of: "^attempt-[0-9]+\\.log\\z", options: .regularExpression) == nil
    }

    /// Every message field that names a file, with `name` put in it.
    private func messagesNaming(_ name: String) -> [(field: String, message: Message)] {
        let ref = ArtifactRef(name: name, sha256: Samples.sha, size: 10)
        var messages: [(String, Message)] = [
            ("OFFER file.name", .offer(Offer(cell: Samples.cell, attempt: 1, epoch: 1, file: ref))),
            (
                "DONE files[1].name",
                .done(Done(cell: Samples.cell, attempt: 1, summary: "{}", files: [Samples.dataset, ref]))
            ),
        ]
        if case .assign(let assign) = Samples.all[3] {
            var body = assign
            body.dataset = ref
            messages.append(("ASSIGN dataset.name", .assign(body)))
            body = assign
            body.stage1 = ref
            messages.append(("ASSIGN stage1.name", .assign(body)))
            body = assign
            body.resume = ref
            messages.append(("ASSIGN resume.name", .assign(body)))
        }
        return messages
    }

    func testNameFieldsAcceptExactlyTheDocumentedRule() throws {
        let directory = URL(fileURLWithPath: "/state/runs/v/seed-1")
        var accepted = 0
        var refused = 0
        for _ in 0..<3000 {
            let name = randomName()
            let expected = followsNameRule(name)
            for (field, message) in messagesNaming(name) {
                do {
                    let decoded = try MessageCodec.decode(MessageCodec.encode(message))
                    XCTAssertTrue(expected, "\(field) \(name.debugDescription) was accepted")
                    XCTAssertEqual(decoded, message)
                    // What is accepted stays one file inside the directory it is put in.
                    XCTAssertEqual(
                        directory.appendingPathComponent(name).standardized.deletingLastPathComponent().path,
                        directory.path)
                    accepted += 1
                } catch {
                    XCTAssertFalse(expected, "\(field) \(name.debugDescription) was refused: \(error)")
                    XCTAssertEqual(error.reason, "name", "\(error)")
                    refused += 1
                }
            }
        }
        XCTAssertGreaterThan(accepted, 1000)
        XCTAssertGreaterThan(refused, 1000)
    }

    func testCellFieldsAcceptOnlyCellIds() {
        let hexDigits = Array("0123456789abcdefABCDEFg")
        for _ in 0..<3000 {
            let length = Bool.random(using: &random) ? 64 : Int.random(in: 0...70, using: &random)
            let cell = String(
                (0..<length).map { _ in
                    hexDigits[Int.random(in: 0..<(Bool.random(using: &random) ? 16 : hexDigits.count), using: &random)]
                })
            let expected = cell.range(of: "^[0-9a-f]{64}\\z", options: .regularExpression) != nil
            let messages: [Message] = [
                .offer(Offer(cell: cell, attempt: 1, epoch: 1, file: Samples.dataset)),
                .done(Done(cell: cell, attempt: 1, summary: "{}", files: [])),
                .log(LogLines(cell: cell, attempt: 1, lines: ["x"])),
                .failed(Failed(cell: cell, attempt: 1, reason: "r", deterministic: false)),
                .release(Release(cell: cell, attempt: 1, reason: "r")),
                .hello(
                    Hello(
                        worker: "w", incarnation: "i", host: "h", threads: 1, gpu: nil, slots: 1, codeVersion: "v",
                        blasCore: "b",
                        resuming: [JobProgress(cell: cell, attempt: 1, epoch: 0)])),
                .heartbeat(Heartbeat(progress: [JobProgress(cell: cell, attempt: 1, epoch: 0)])),
            ]
            for message in messages {
                let decoded = try? MessageCodec.decode(MessageCodec.encode(message))
                XCTAssertEqual(decoded != nil, expected, "\(message.command) with cell \(cell.debugDescription)")
            }
        }
    }

    func testOversizedFieldsAreRefusedAtTheirLimits() {
        for _ in 0..<150 {
            let count = Int.random(in: 0...600, using: &random)
            let width = Int.random(in: 0...(Bool.random(using: &random) ? 300 : 4200), using: &random)
            let lines = (0..<count).map { _ in
                String(repeating: "é", count: Int.random(in: 0...width, using: &random) / 2)
            }
            let fits =
                count <= 500 && lines.allSatisfy { $0.utf8.count <= 4096 }
                && lines.reduce(0) { $0 + $1.utf8.count + 1 } <= 131_072
            let message = Message.log(LogLines(cell: Samples.cell, attempt: 1, lines: lines))
            do {
                let decoded = try MessageCodec.decode(MessageCodec.encode(message))
                XCTAssertEqual(decoded, message)
                XCTAssertTrue(fits, "\(count) lines up to \(width) bytes were accepted")
            } catch {
                XCTAssertFalse(fits, "\(error)")
                XCTAssertTrue(error.reason == "limit" || error.reason == "size", "\(error)")
            }
        }
        for size in [
            FieldLimits.maxFileBytes - 1, FieldLimits.maxFileBytes, FieldLimits.maxFileBytes + 1, 1 << 40, Int64.max,
        ] {
            let offer = Message.offer(
                Offer(
                    cell: Samples.cell, attempt: 1, epoch: 1,
                    file: ArtifactRef(name: "last.h5", sha256: Samples.sha, size: size)))
            let chunk = Message.chunk(FileChunk(sha256: Samples.sha, offset: 0, totalSize: size, payload: [1]))
            for message in [offer, chunk] {
                let error: DecodeError?
                do { _ = try MessageCodec.decode(MessageCodec.encode(message)); error = nil } catch let caught {
                    error = caught
                }
                if size <= FieldLimits.maxFileBytes {
                    XCTAssertNil(error, "\(size)")
                } else {
                    XCTAssertNotNil(error, "\(size)")
                }
            }
        }
    }

    func testNonFiniteMetricsDecodeAsSent() throws {
        let values: [Double] = [.nan, .infinity, -.infinity, 0.5, -0.0, .greatestFiniteMagnitude]
        for _ in 0..<200 {
            let pick = { values[Int.random(in: 0..<values.count, using: &self.random)] }
            let report = MetricsReport(
                cell: Samples.cell, attempt: 1, seq: 1, epoch: 1, valMacroF1: pick(), valLoss: pick(),
                trainLoss: pick(), seconds: pick(), record: Samples.record)
            guard case .metrics(let decoded) = try MessageCodec.decode(MessageCodec.encode(.metrics(report))) else {
                return XCTFail("not METRICS")
            }
            for (sent, got) in [
                (report.valMacroF1, decoded.valMacroF1), (report.valLoss, decoded.valLoss),
                (report.trainLoss, decoded.trainLoss), (report.seconds, decoded.seconds),
            ] {
                XCTAssertEqual(sent.bitPattern, got.bitPattern)
            }
        }
    }
}
