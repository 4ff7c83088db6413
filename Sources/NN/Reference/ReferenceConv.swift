// ReferenceConv: plain-loop 2-D convolution forward and backward in Double, the oracle for Conv2d's BLAS path.

/// Direct-summation convolution with the same contract as `Conv2d` (OIHW weights, groups, stride, padding).
public enum ReferenceConv {
    public struct Geometry: Sendable {
        public var inChannels, outChannels, kernel, stride, padding, groups: Int
        public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, groups: Int = 1)
        {
            self.inChannels = inChannels
            self.outChannels = outChannels
            self.kernel = kernel
            self.stride = stride
            self.padding = padding
            self.groups = groups
        }
    }

    /// Y = conv(X, W) + b.
    public static func forward(_ x: Tensor, weight: [Float], bias: [Float]?, _ g: Geometry) -> Tensor {
        let (n, c, h, w) = x.nchw
        let ho = (h + 2 * g.padding - g.kernel) / g.stride + 1
        let wo = (w + 2 * g.padding - g.kernel) / g.stride + 1
        let cg = c / g.groups
        let og = g.outChannels / g.groups
        var y = Tensor(zeros: [n, g.outChannels, ho, wo])
        for b in 0..<n {
            for o in 0..<g.outChannels {
                let group = o / og
                for oy in 0..<ho {
                    for ox in 0..<wo {
                        var sum = Double(bias?[o] ?? 0)
                        for ci in 0..<cg {
                            for ky in 0..<g.kernel {
                                for kx in 0..<g.kernel {
                                    let iy = oy * g.stride - g.padding + ky
                                    let ix = ox * g.stride - g.padding + kx
                                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                    let xv = x.data[((b * c + group * cg + ci) * h + iy) * w + ix]
                                    let wv = weight[((o * cg + ci) * g.kernel + ky) * g.kernel + kx]
                                    sum += Double(xv) * Double(wv)
                                }
                            }
                        }
                        y.data[((b * g.outChannels + o) * ho + oy) * wo + ox] = Float(sum)
                    }
                }
            }
        }
        return y
    }

    /// (dX, dW, db) for upstream gradient dY.
    public static func backward(_ dy: Tensor, input x: Tensor, weight: [Float], _ g: Geometry) -> (
        dx: Tensor, dw: [Float], db: [Float]
    ) {
        let (n, c, h, w) = x.nchw
        let (_, _, ho, wo) = dy.nchw
        let cg = c / g.groups
        let og = g.outChannels / g.groups
        var dx = [Double](repeating: 0, count: x.count)
        var dw = [Double](repeating: 0, count: weight.count)
        var db = [Double](repeating: 0, count: g.outChannels)
        for b in 0..<n {
            for o in 0..<g.outChannels {
                let group = o / og
                for oy in 0..<ho {
                    for ox in 0..<wo {
                        let d = Double(dy.data[((b * g.outChannels + o) * ho + oy) * wo + ox])
                        db[o] += d
                        for ci in 0..<cg {
                            for ky in 0..<g.kernel {
                                for kx in 0..<g.kernel {
                                    let iy = oy * g.stride - g.padding + ky
                                    let ix = ox * g.stride - g.padding + kx
                                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                    let xi = ((b * c + group * cg + ci) * h + iy) * w + ix
                                    let wi = ((o * cg + ci) * g.kernel + ky) * g.kernel + kx
                                    dx[xi] += d * Double(weight[wi])
                                    dw[wi] += d * Double(x.data[xi])
                                }
                            }
                        }
                    }
                }
            }
        }
        return (Tensor(shape: x.shape, data: dx.map { Float($0) }), dw.map { Float($0) }, db.map { Float($0) })
    }
}
