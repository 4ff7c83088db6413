// Losses: the research pipeline's five classification losses (plus focal and cross-entropy), value and gradient w.r.t. logits.
import Foundation

/// A classification loss over logits `z ∈ R^{N×K}` with integer targets, reduced by a plain mean over the batch.
///
/// With `p = softmax(z)` and per-class weights `ŵ` (class-balanced, Cui et al. 2019):
/// * `cbFocal` (Lin et al. 2017, with CB weights): `ŵ_y · (1 − p_y)^γ · (−log p_y)`;
/// * `poly` (Leng et al. 2022, Poly-1 on the weighted CE): `ce + ε(1 − e^{−ce})`, `ce = ŵ_y · (−log p_y)`;
/// * `asymmetric` (Ridnik et al. 2021, softmax one-vs-rest adaptation): `ŵ_y · Σ_k [k=y](1 − p_k)^{γ+}(−log(p_k + 1e-8))
///   + [k≠y] p_k^{γ−}(−log(1 − p_k + 1e-8))`;
/// * `focalSmoothing`: `ŵ_y · Σ_k (1 − p_k)^γ · ỹ_k · (−log p_k)`, `ỹ = (1 − ε)·onehot + ε/K`;
/// * `focal`: the Stage-1 focal loss, `(1 − p_y)^γ · (−log p_y)` (α ignored with a 2-logit head, as the research code);
/// * `crossEntropy`: `−log p_y` (times `ŵ_y` when weighted).
///
/// Gradients use `∂ℓ/∂z_j = h_j − p_j Σ_k h_k` with `h_k = p_k ∂ℓ/∂p_k`, which never divides by `p`.
public enum LossKind: Sendable, Equatable, Codable {
    case cbFocal(gamma: Double, beta: Double)
    case poly(epsilon: Double)
    case asymmetric(gammaPositive: Double, gammaNegative: Double)
    case focalSmoothing(gamma: Double, smoothing: Double)
    case focal(gamma: Double)
    case crossEntropy(weighted: Bool)

    /// The research defaults of each name: `cb_focal`, `poly`, `asymmetric`, `focal_smoothing`, `focal`, `ce`.
    public static func named(_ name: String) -> LossKind? {
        switch name {
        case "cb_focal": .cbFocal(gamma: 2, beta: 0.9999)
        case "poly": .poly(epsilon: 1)
        case "asymmetric": .asymmetric(gammaPositive: 2, gammaNegative: 4)
        case "focal_smoothing": .focalSmoothing(gamma: 2, smoothing: 0.1)
        case "focal": .focal(gamma: 2)
        case "ce": .crossEntropy(weighted: false)
        default: nil
        }
    }

    /// Whether the loss uses class weights.
    public var usesClassWeights: Bool {
        switch self {
        case .focal, .crossEntropy(weighted: false): false
        default: true
        }
    }
}

/// A loss bound to its class weights.
public struct Loss: Sendable {
    public let kind: LossKind
    /// `ŵ` (ones when the loss is unweighted).
    public let classWeights: [Double]

    public init(kind: LossKind, classWeights: [Double]) {
        self.kind = kind
        self.classWeights = kind.usesClassWeights ? classWeights : [Double](repeating: 1, count: classWeights.count)
    }

    /// Class-balanced weights from training-row counts: `w_c = (1 − β)/(1 − β^{n_c})`, renormalised to sum to K.
    public static func classBalancedWeights(counts: [Int], beta: Double) -> [Double] {
        let raw = counts.map { (1 - beta) / (1 - Foundation.pow(beta, Double($0))) }
        let total = raw.reduce(0, +)
        return raw.map { $0 * Double(counts.count) / total }
    }

    /// Mean loss over the batch and its gradient with respect to the logits (`[N, K]`).
    public func evaluate(logits: Tensor, labels: [Int]) -> (loss: Double, gradient: Tensor) {
        let n = labels.count
        let k = classWeights.count
        precondition(logits.shape == [n, k], "loss: logits \(logits.shape) for \(n) labels and \(k) classes")
        let pool = BufferPool.current
        // Every element is written below.
        var gradient = Tensor(shape: logits.shape) { _ in }
        var total = 0.0
        var p = pool.doubleZeros(k)
        var logP = pool.doubleZeros(k)
        var h = pool.doubleZeros(k)
        defer {
            pool.recycle(&p)
            pool.recycle(&logP)
            pool.recycle(&h)
        }
        for row in 0..<n {
            let y = labels[row]
            precondition((0..<k).contains(y), "loss: label \(y) outside 0..<\(k)")
            // Stable log-softmax.
            var maxLogit = -Double.infinity
            for j in 0..<k { maxLogit = max(maxLogit, Double(logits.data[row * k + j])) }
            var sum = 0.0
            for j in 0..<k { sum += Foundation.exp(Double(logits.data[row * k + j]) - maxLogit) }
            let logSum = Foundation.log(sum)
            for j in 0..<k {
                logP[j] = Double(logits.data[row * k + j]) - maxLogit - logSum
                p[j] = Foundation.exp(logP[j])
            }
            let w = classWeights[y]
            let value = perSample(y: y, p: p, logP: logP, w: w, h: &h)
            total += value
            let hSum = h.reduce(0, +)
            for j in 0..<k { gradient.data[row * k + j] = Float((h[j] - p[j] * hSum) / Double(n)) }
        }
        return (total / Double(max(n, 1)), gradient)
    }

    /// One sample's loss; fills `h_k = p_k ∂ℓ/∂p_k`.
    private func perSample(y: Int, p: [Double], logP: [Double], w: Double, h: inout [Double]) -> Double {
        let k = p.count
        for j in 0..<k { h[j] = 0 }
        switch kind {
        case .cbFocal(let gamma, _), .focal(let gamma):
            let py = p[y]
            let nll = -logP[y]
            let focal = Foundation.pow(1 - py, gamma)
            // ∂/∂p [(1−p)^γ (−log p)] · p = −γ(1−p)^{γ−1} p (−log p) − (1−p)^γ
            h[y] = w * (-gamma * Foundation.pow(1 - py, gamma - 1) * py * nll - focal)
            return w * focal * nll
        case .crossEntropy:
            h[y] = -w
            return w * -logP[y]
        case .poly(let epsilon):
            let ce = w * -logP[y]
            let q = Foundation.exp(-ce)
            // dℓ/dce = 1 + ε q;  p_y ∂ce/∂p_y = −ŵ_y
            h[y] = (1 + epsilon * q) * -w
            return ce + epsilon * (1 - q)
        case .asymmetric(let gammaPositive, let gammaNegative):
            let tiny = 1e-8
            var value = 0.0
            for j in 0..<k {
                let pj = p[j]
                if j == y {
                    let nll = -Foundation.log(pj + tiny)
                    value += Foundation.pow(1 - pj, gammaPositive) * nll
                    let d =
                        -gammaPositive * Foundation.pow(1 - pj, gammaPositive - 1) * nll - Foundation.pow(
                            1 - pj, gammaPositive) / (pj + tiny)
                    h[j] = w * pj * d
                } else {
                    let nll = -Foundation.log(1 - pj + tiny)
                    value += Foundation.pow(pj, gammaNegative) * nll
                    let d =
                        gammaNegative * Foundation.pow(pj, gammaNegative - 1) * nll + Foundation.pow(pj, gammaNegative)
                        / (1 - pj + tiny)
                    h[j] = w * pj * d
                }
            }
            return w * value
        case .focalSmoothing(let gamma, let smoothing):
            var value = 0.0
            for j in 0..<k {
                let target = (j == y ? 1 - smoothing : 0) + smoothing / Double(k)
                let nll = -logP[j]
                let focal = Foundation.pow(1 - p[j], gamma)
                value += focal * target * nll
                h[j] = w * target * (-gamma * Foundation.pow(1 - p[j], gamma - 1) * p[j] * nll - focal)
            }
            return w * value
        }
    }
}
