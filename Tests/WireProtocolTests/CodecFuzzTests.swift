// CodecFuzzTests: 100,000 random and mutated frame sets decode without crashing, leaking or stalling.
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
            let index = frames.count > 2 && Int.random(in: 0..<10, using: &random) < 7
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
        print("fuzz: \(decoded) decoded, drops \(reasons.counts.sorted { $0.key < $1.key }), \(seconds) s, "
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
}
