// NumPyRandomTests: SeedSequence, PCG64 and Generator.permutation against NumPy's own outputs (fixture).
import AblateSupport
import Crypto
import DatasetKit
import Foundation
import Testing

/// Reference: Tests/DatasetKitTests/Fixtures/numpy_rng.json, written by scripts/fixtures/make_numpy_rng_fixture.py
/// with NumPy 2.4.6 (`SeedSequence.generate_state`, `PCG64.random_raw`, `default_rng(seed).permutation(n)`).
@Suite("NumPy-compatible random numbers")
struct NumPyRandomTests {
    let fixture: [String: Any]

    init() throws {
        fixture = try Fixtures.json("numpy_rng")
    }

    @Test func seedSequenceMatchesNumPy() throws {
        let cases = try #require(fixture["seed_sequences"] as? [[String: Any]])
        #expect(cases.count == 7)
        for entry in cases {
            let entropy = try #require(entry["entropy"] as? String)
            let sequence = SeedSequence(entropyWords: decimalToWords(entropy))
            let words = try #require(entry["state_u32"] as? [Int])
            let expected32 = words.map { UInt32($0) }
            let expected64 = try #require(entry["state_u64"] as? [String])
            #expect(sequence.generateState32(8) == expected32, "entropy \(entropy)")
            #expect(sequence.generateState64(4).map(hex64) == expected64, "entropy \(entropy)")
        }
    }

    @Test func pcg64MatchesNumPy() throws {
        let cases = try #require(fixture["pcg64"] as? [[String: Any]])
        for entry in cases {
            let seedText = try #require(entry["seed"] as? String)
            let seed = try #require(UInt64(seedText))
            var generator = PCG64(seed: seed)
            let outputs = (0..<8).map { _ in hex64(generator.next()) }
            let expected = try #require(entry["next64"] as? [String])
            #expect(outputs == expected, "seed \(seed)")
        }
    }

    @Test func smallPermutationsMatchNumPy() throws {
        let cases = try #require(fixture["permutations"] as? [[String: Any]])
        #expect(cases.count == 7)
        for entry in cases {
            let seed = try #require(entry["seed"] as? Int)
            let n = try #require(entry["n"] as? Int)
            var generator = NumPyGenerator(seed: UInt64(seed))
            let expected = try #require(entry["permutation"] as? [Int])
            #expect(generator.permutation(n) == expected, "seed \(seed) n \(n)")
        }
    }

    /// The research split itself: N = 453,961 with seed 42, and two more sizes, compared by SHA-256.
    @Test func largePermutationsMatchNumPy() throws {
        let cases = try #require(fixture["large_permutations"] as? [[String: Any]])
        for entry in cases {
            let seed = try #require(entry["seed"] as? Int)
            let n = try #require(entry["n"] as? Int)
            var generator = NumPyGenerator(seed: UInt64(seed))
            let permutation = generator.permutation(n)
            let first = try #require(entry["first"] as? [Int])
            let last = try #require(entry["last"] as? [Int])
            let expectedDigest = try #require(entry["sha256_int64le"] as? String)
            let expectedTrain = try #require(entry["n_train_at_0.2"] as? Int)
            #expect(Array(permutation.prefix(8)) == first)
            #expect(Array(permutation.suffix(8)) == last)
            let bytes = permutation.map { Int64($0).littleEndian }.withUnsafeBytes { Array($0) }
            let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
            #expect(digest == expectedDigest, "seed \(seed) n \(n)")
            #expect(Int(Double(n) * (1.0 - 0.2)) == expectedTrain)
        }
    }
}
