// BufferPool: per-thread free lists of float, double and index buffers, so a training step reuses the last step's buffers.
import Foundation

/// The buffers of one training or evaluation step (activations, gradients, scratch) come from the calling
/// thread's pool and go back to it when the step's caches are recycled (`PartitionModel.Cache.recycle`) or a
/// temporary reaches its last use. From the second step of a shape on, a step takes every buffer it needs from
/// the pool and allocates none (`BufferPoolTests`, and the misses `ablate bench train` prints).
///
/// Buffers keep Swift's value semantics: the pool takes back only arrays it holds the sole reference to (an
/// array still referenced elsewhere is simply released), so a buffer it hands out is never shared. A taken
/// buffer's contents are unspecified (`take`) or zero (`zeros`). Each thread has its own pool; the one that a
/// thread's `current` returns lives until the thread ends.
public final class BufferPool {
    /// Free buffers of one element type, by element count.
    struct FreeList<Element> {
        var free: [Int: [[Element]]] = [:]
        var retained = 0

        mutating func take(_ count: Int) -> [Element]? {
            // Through the values view, so the list is changed in place (`free[count]?.popLast()` would copy it).
            guard let index = free.index(forKey: count), let array = free.values[index].popLast() else { return nil }
            retained -= count
            return array
        }

        /// Keeps `array` when it is the only reference to its storage and the pool has room; empties `array`.
        mutating func give(_ array: inout [Element], limit: Int) {
            let count = array.count
            guard count > 0, retained + count <= limit, BufferPool.isUniquelyReferenced(&array) else {
                array = []
                return
            }
            free[count, default: []].append(array)
            retained += count
            array = []
        }
    }

    var floats = FreeList<Float>()
    var doubles = FreeList<Double>()
    var indices = FreeList<Int32>()
    /// Elements (of each type) the pool keeps at most, 2²⁶ (256 MiB of floats, far above a research-model step's
    /// working set); a buffer given back beyond it is released.
    public var retainedLimit = 1 << 26
    /// Takes the pool served from a buffer it held, and takes that had to allocate.
    public private(set) var hits = 0
    public private(set) var misses = 0
    /// Fills every buffer `take` hands out with NaN (tests: a layer that reads a buffer before writing it shows).
    public var poisonsTakenBuffers = false

    public init() {}

    /// The shape a recycled tensor is left with (one shared array, so recycling allocates nothing).
    static let emptyShape = [0]

    /// This thread's pool.
    public static var current: BufferPool {
        if let raw = pthread_getspecific(threadKey) {
            return Unmanaged<BufferPool>.fromOpaque(raw).takeUnretainedValue()
        }
        let pool = BufferPool()
        pthread_setspecific(threadKey, Unmanaged.passRetained(pool).toOpaque())
        return pool
    }

    private static let threadKey: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { raw in
            guard let raw else { return }
            Unmanaged<BufferPool>.fromOpaque(raw).release()
        }
        precondition(status == 0, "pthread_key_create failed: \(status)")
        return key
    }()

    // MARK: Floats

    /// `count` floats whose values are unspecified: the caller writes every element before reading any.
    public func take(_ count: Int) -> [Float] {
        guard count > 0 else { return [] }
        var array: [Float]
        if let reused = floats.take(count) {
            hits += 1
            array = reused
        } else {
            misses += 1
            array = [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
        }
        if poisonsTakenBuffers { array.withUnsafeMutableBufferPointer { $0.update(repeating: .nan) } }
        return array
    }

    /// `count` zeros.
    public func zeros(_ count: Int) -> [Float] {
        var array = take(count)
        array.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        return array
    }

    /// Takes `array` back (when nothing else references it) and leaves it empty.
    public func recycle(_ array: inout [Float]) { floats.give(&array, limit: retainedLimit) }

    /// Takes an optional buffer back (when nothing else references it) and leaves nil.
    public func recycle(_ array: inout [Float]?) {
        guard var taken = array else { return }
        array = nil
        recycle(&taken)
    }

    /// Takes the tensor's buffer back and leaves the tensor empty.
    public func recycle(_ tensor: inout Tensor) {
        recycle(&tensor.data)
        tensor.shape = Self.emptyShape
    }

    /// Replaces `tensor` by `body(tensor)` and takes the old buffer back (one step of a chain of layers whose
    /// intermediate results nothing keeps).
    public func replace(_ tensor: inout Tensor, with body: (Tensor) -> Tensor) {
        var old = tensor
        tensor = body(old)
        recycle(&old)
    }

    // MARK: Doubles and indices

    /// `count` zeros in double precision (per-channel sums).
    public func doubleZeros(_ count: Int) -> [Double] {
        guard count > 0 else { return [] }
        if var array = doubles.take(count) {
            hits += 1
            array.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            return array
        }
        misses += 1
        return [Double](repeating: 0, count: count)
    }

    public func recycle(_ array: inout [Double]) { doubles.give(&array, limit: retainedLimit) }

    /// `count` indices, every one `value`.
    public func indices(_ count: Int, repeating value: Int32) -> [Int32] {
        guard count > 0 else { return [] }
        if var array = indices.take(count) {
            hits += 1
            array.withUnsafeMutableBufferPointer { $0.update(repeating: value) }
            return array
        }
        misses += 1
        return [Int32](repeating: value, count: count)
    }

    public func recycle(_ array: inout [Int32]) { indices.give(&array, limit: retainedLimit) }

    /// Releases every buffer the pool holds (the end of a run whose shapes the next run will not share).
    public func removeAll() {
        floats = FreeList()
        doubles = FreeList()
        indices = FreeList()
    }

    /// Whether `array` holds the only reference to its storage. A native Swift array is one reference to its
    /// storage object (platforms without Objective-C bridging); `isKnownUniquelyReferenced` reads that object's
    /// reference count in place, through a concrete class type: with an `AnyObject` existential, Swift 6 opens a
    /// copy of the reference and an unoptimised build sees two. Elsewhere the answer is a safe "no" and the pool
    /// keeps nothing.
    static func isUniquelyReferenced<Element>(_ array: inout [Element]) -> Bool {
        #if canImport(ObjectiveC)
            return false
        #else
            guard MemoryLayout<[Element]>.size == MemoryLayout<StorageReference>.size else { return false }
            return withUnsafeMutablePointer(to: &array) { pointer in
                pointer.withMemoryRebound(to: StorageReference.self, capacity: 1) {
                    isKnownUniquelyReferenced(&$0.pointee)
                }
            }
        #endif
    }

    /// The static type through which an array's storage reference is read for its reference count (no member
    /// of it is ever used).
    private final class StorageReference {}
}
