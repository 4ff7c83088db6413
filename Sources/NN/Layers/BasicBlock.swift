// BasicBlock: the ResNet-18 residual block (He et al., 2016) with its optional 1×1 downsample; forward and backward.

/// `ReLU(BN₂(conv₃ₓ₃(ReLU(BN₁(conv₃ₓ₃(x))))) + shortcut(x))`, shortcut = `BN(conv₁ₓ₁,stride(x))` when the stride
/// or width changes, else identity (He, Zhang, Ren & Sun, "Deep Residual Learning", CVPR 2016). Tensor names follow
/// torchvision: `prefix.conv1`, `.bn1`, `.conv2`, `.bn2`, `.downsample.0`, `.downsample.1`.
public final class BasicBlock {
    let conv1: Conv2d
    let bn1: BatchNorm2d
    let conv2: Conv2d
    let bn2: BatchNorm2d
    let downsample: (conv: Conv2d, bn: BatchNorm2d)?

    public struct Cache {
        var conv1 = Conv2d.Cache(), bn1 = BatchNorm2d.Cache(), conv2 = Conv2d.Cache(), bn2 = BatchNorm2d.Cache()
        var downConv = Conv2d.Cache(), downBN = BatchNorm2d.Cache()
        var hidden = Tensor(zeros: [0])
        var output = Tensor(zeros: [0])
        public init() {}

        /// Hands every cached buffer to `pool` (the start of the next step).
        mutating func recycle(into pool: BufferPool) {
            conv1.recycle(into: pool)
            bn1.recycle(into: pool)
            conv2.recycle(into: pool)
            bn2.recycle(into: pool)
            downConv.recycle(into: pool)
            downBN.recycle(into: pool)
            pool.recycle(&hidden)
            pool.recycle(&output)
        }
    }

    public init(_ store: ParameterStore, _ prefix: String, inChannels: Int, outChannels: Int, stride: Int) {
        conv1 = Conv2d(
            store, "\(prefix).conv1", inChannels: inChannels, outChannels: outChannels, kernel: 3, stride: stride,
            padding: 1, bias: false)
        bn1 = BatchNorm2d(store, "\(prefix).bn1", channels: outChannels)
        conv2 = Conv2d(
            store, "\(prefix).conv2", inChannels: outChannels, outChannels: outChannels, kernel: 3, padding: 1,
            bias: false)
        bn2 = BatchNorm2d(store, "\(prefix).bn2", channels: outChannels)
        if stride != 1 || inChannels != outChannels {
            downsample = (
                Conv2d(
                    store, "\(prefix).downsample.0", inChannels: inChannels, outChannels: outChannels, kernel: 1,
                    stride: stride, bias: false),
                BatchNorm2d(store, "\(prefix).downsample.1", channels: outChannels)
            )
        } else {
            downsample = nil
        }
    }

    /// torchvision's ResNet initialisation: Kaiming normal (fan_out, ReLU) convolutions; BN γ = 1, β = 0.
    public func initialize(_ store: ParameterStore, random: inout InitRandom) {
        for conv in [conv1, conv2] + (downsample.map { [$0.conv] } ?? []) {
            Initializers.kaimingNormal(store, conv.weight, fanOut: true, random: &random)
        }
    }

    public func forward(_ x: Tensor, _ store: ParameterStore, bn mode: BatchNorm2d.Mode, cache: inout Cache) -> Tensor {
        let pool = BufferPool.current
        var hidden = conv1.forward(x, store, cache: &cache.conv1)
        pool.replace(&hidden) { bn1.forward($0, store, mode: mode, cache: &cache.bn1) }
        pool.replace(&hidden) { ReLU.forward($0) }
        cache.hidden = hidden
        var y = conv2.forward(hidden, store, cache: &cache.conv2)
        pool.replace(&y) { bn2.forward($0, store, mode: mode, cache: &cache.bn2) }
        var shortcut = x
        if let d = downsample {
            shortcut = d.conv.forward(x, store, cache: &cache.downConv)
            pool.replace(&shortcut) { d.bn.forward($0, store, mode: mode, cache: &cache.downBN) }
        }
        pool.replace(&y) { Tensor(shape: $0.shape, data: Pointwise.sumReLU($0.data, shortcut.data)) }
        pool.recycle(&shortcut)
        cache.output = y
        return y
    }

    /// Temporaries go back to this thread's pool as soon as they are used; `dy` is the caller's.
    public func backward(_ dy: Tensor, _ store: ParameterStore, cache: Cache) -> Tensor {
        let pool = BufferPool.current
        var dSum = ReLU.backward(dy, output: cache.output)
        var dx = bn2.backward(dSum, store, cache: cache.bn2)
        pool.replace(&dx) { conv2.backward($0, store, cache: cache.conv2) }
        pool.replace(&dx) { ReLU.backward($0, output: cache.hidden) }
        pool.replace(&dx) { bn1.backward($0, store, cache: cache.bn1) }
        pool.replace(&dx) { conv1.backward($0, store, cache: cache.conv1) }
        var dShortcut = dSum
        if let d = downsample {
            dShortcut = d.bn.backward(dSum, store, cache: cache.downBN)
            pool.replace(&dShortcut) { d.conv.backward($0, store, cache: cache.downConv) }
        }
        pool.replace(&dx) { Tensor(shape: $0.shape, data: Pointwise.sum($0.data, dShortcut.data)) }
        pool.recycle(&dShortcut)
        pool.recycle(&dSum)
        return dx
    }
}
