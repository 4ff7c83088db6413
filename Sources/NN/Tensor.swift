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

    /// The shape `[n, c, h, w]`, reusing `cached` when it already holds those values: a layer keeps its output's
    /// shape in its cache, so that steps after the first do not allocate a new shape array.
    public static func reusingShape(_ cached: inout [Int], _ n: Int, _ c: Int, _ h: Int, _ w: Int) -> [Int] {
        if cached.count != 4 || cached[0] != n || cached[1] != c || cached[2] != h || cached[3] != w {
            cached = [n, c, h, w]
        }
        return cached
    }

    /// The shape `[n, c]`, reusing `cached` as above.
    public static func reusingShape(_ cached: inout [Int], _ n: Int, _ c: Int) -> [Int] {
        if cached.count != 2 || cached[0] != n || cached[1] != c { cached = [n, c] }
        return cached
    }

    /// Batch size, channels, height, width of a 4-D tensor.
    public var nchw: (n: Int, c: Int, h: Int, w: Int) {
        precondition(shape.count == 4, "expected an NCHW tensor, got shape \(shape)")
        return (shape[0], shape[1], shape[2], shape[3])
    }
}
