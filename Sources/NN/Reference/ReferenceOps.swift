// ReferenceOps: plain-loop GEMM in Double, the oracle for BLAS.sgemm.

/// Plain-loop references for the BLAS paths: the test oracle.
public enum ReferenceOps {
    /// The same contract as `BLAS.sgemm`, computed with three loops in Double.
    public static func sgemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: [Float], b: [Float], beta: Float = 0, c: inout [Float]
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let av = transposeA ? a[p * m + i] : a[i * k + p]
                    let bv = transposeB ? b[j * k + p] : b[p * n + j]
                    sum += Double(av) * Double(bv)
                }
                c[i * n + j] = Float(Double(alpha) * sum + Double(beta) * Double(c[i * n + j]))
            }
        }
    }
}
