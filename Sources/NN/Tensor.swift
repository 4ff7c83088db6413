// Tensor: a shape and a contiguous row-major Float array (NCHW for images); no autograd.

/// A dense row-major array of `Float`. Image tensors are NCHW, as in PyTorch.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "tensor data count \(data.count) does not match shape \(shape)")
        self.shape = shape
        self.data = data
    }

    /// A tensor of zeros (its buffer from this thread's `BufferPool`).
    public init(zeros shape: [Int]) {
        self.shape = shape
        data = BufferPool.current.zeros(shape.reduce(1, *))
    }

    /// Number of elements.
    public var count: Int { data.count }

    /// The same data under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }

    /// Batch size, channels, height, width of a 4-D tensor.
    public var nchw: (n: Int, c: Int, h: Int, w: Int) {
        precondition(shape.count == 4, "expected an NCHW tensor, got shape \(shape)")
        return (shape[0], shape[1], shape[2], shape[3])
    }
}
