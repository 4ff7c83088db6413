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
    }

    public init(_ store: ParameterStore, _ prefix: String, inChannels: Int, outChannels: Int, stride: Int) {
        conv1 = Conv2d(store, "\(prefix).conv1", inChannels: inChannels, outChannels: outChannels, kernel: 3, stride: stride, padding: 1, bias: false)
        bn1 = BatchNorm2d(store, "\(prefix).bn1", channels: outChannels)
        conv2 = Conv2d(store, "\(prefix).conv2", inChannels: outChannels, outChannels: outChannels, kernel: 3, padding: 1, bias: false)
        bn2 = BatchNorm2d(store, "\(prefix).bn2", channels: outChannels)
        if stride != 1 || inChannels != outChannels {
            downsample = (
                Conv2d(store, "\(prefix).downsample.0", inChannels: inChannels, outChannels: outChannels, kernel: 1, stride: stride, bias: false),
                BatchNorm2d(store, "\(prefix).downsample.1", channels: outChannels))
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
        let a = bn1.forward(conv1.forward(x, store, cache: &cache.conv1), store, mode: mode, cache: &cache.bn1)
        cache.hidden = ReLU.forward(a)
        let y = bn2.forward(conv2.forward(cache.hidden, store, cache: &cache.conv2), store, mode: mode, cache: &cache.bn2)
        let shortcut = downsample.map { d in
            d.bn.forward(d.conv.forward(x, store, cache: &cache.downConv), store, mode: mode, cache: &cache.downBN)
        } ?? x
        let output = Tensor(shape: y.shape, data: Pointwise.sumReLU(y.data, shortcut.data))
        cache.output = output
        return output
    }

    public func backward(_ dy: Tensor, _ store: ParameterStore, cache: Cache) -> Tensor {
        let dSum = ReLU.backward(dy, output: cache.output)
        let dHidden = conv2.backward(bn2.backward(dSum, store, cache: cache.bn2), store, cache: cache.conv2)
        let dx = conv1.backward(bn1.backward(ReLU.backward(dHidden, output: cache.hidden), store, cache: cache.bn1), store, cache: cache.conv1)
        let dShortcut = downsample.map { d in
            d.conv.backward(d.bn.backward(dSum, store, cache: cache.downBN), store, cache: cache.downConv)
        } ?? dSum
        return Tensor(shape: dx.shape, data: Pointwise.sum(dx.data, dShortcut.data))
    }
}
