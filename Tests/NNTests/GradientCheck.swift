// GradientCheck: central finite differences against analytic gradients, with tolerance and max-diff reporting.
import NN
import Testing

/// Deterministic test values.
struct TestRandom {
    var state: UInt64

    init(_ seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    mutating func next() -> Float {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)  // [-1, 1)
    }

    mutating func values(_ count: Int, scale: Float = 1) -> [Float] { (0..<count).map { _ in next() * scale } }

    mutating func tensor(_ shape: [Int], scale: Float = 1) -> Tensor {
        Tensor(shape: shape, data: values(shape.reduce(1, *), scale: scale))
    }
}

/// Largest absolute difference, and the test's report of it.
func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "compared arrays differ in length: \(a.count) vs \(b.count)")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

func expectClose(
    _ actual: [Float], _ expected: [Float], atol: Float, rtol: Float = 0, _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(
        actual.count == expected.count, "\(what): \(actual.count) vs \(expected.count) values",
        sourceLocation: sourceLocation)
    guard actual.count == expected.count else { return }
    var worst: Float = 0
    var worstIndex = 0
    var failures = 0
    for i in actual.indices {
        let d = abs(actual[i] - expected[i])
        if d > atol + rtol * abs(expected[i]) { failures += 1 }
        if d > worst {
            worst = d
            worstIndex = i
        }
    }
    #expect(
        failures == 0,
        "\(what): \(failures) of \(actual.count) outside atol \(atol) rtol \(rtol); max |diff| \(worst) at \(worstIndex) (\(actual[worstIndex]) vs \(expected[worstIndex]))",
        sourceLocation: sourceLocation)
}

/// Finite-difference checks of d(loss)/d(inputs) for a scalar loss `Σ r ⊙ f(...)` with fixed random `r`.
enum GradientCheck {
    /// Numerically differentiates `loss` with respect to each of `values` at up to `samples` evenly spread
    /// coordinates and compares with `analytic`. A coordinate that disagrees at `eps` is retried at eps/4 and
    /// eps/16: a ReLU or max-pool kink within ±eps spoils a central difference, and a smaller step steps over it.
    /// `values` is restored (and `loss` called with the original values last), so state captured by `loss` is too.
    static func check(
        _ what: String, values: inout [Float], analytic: [Float], eps: Float = 1e-2, atol: Float = 2e-3,
        rtol: Float = 2e-2,
        samples: Int = 40, sourceLocation: SourceLocation = #_sourceLocation, loss: ([Float]) -> Double
    ) {
        let stride = max(1, values.count / samples)
        var worst: Float = 0
        var failures: [String] = []
        for i in Swift.stride(from: 0, to: values.count, by: stride) {
            let original = values[i]
            var best = Float.infinity
            var numeric: Float = 0
            for step in [eps, eps / 4, eps / 16] {
                values[i] = original + step
                let plus = loss(values)
                values[i] = original - step
                let minus = loss(values)
                values[i] = original
                numeric = Float((plus - minus) / Double(2 * step))
                let d = abs(numeric - analytic[i])
                best = min(best, d)
                if d <= atol + rtol * max(abs(numeric), abs(analytic[i])) { break }
            }
            worst = max(worst, best)
            if best > atol + rtol * max(abs(numeric), abs(analytic[i])) {
                failures.append("[\(i)] analytic \(analytic[i]) numeric \(numeric)")
            }
        }
        _ = loss(values)
        #expect(
            failures.isEmpty,
            "\(what): gradient check failed at \(failures.prefix(4).joined(separator: ", ")); max |diff| \(worst)",
            sourceLocation: sourceLocation)
    }

    /// Σ r ⊙ y in Double.
    static func project(_ y: Tensor, _ r: [Float]) -> Double {
        zip(y.data, r).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }
}
