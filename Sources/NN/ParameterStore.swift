// ParameterStore: every tensor of a model in one flat buffer, with named views (PyTorch state_dict keys).
import AblateSupport

/// A view into the store: where one named tensor lives.
public struct ParameterRef: Sendable, Hashable {
    public let index: Int
    public let offset: Int
    public let count: Int
}

/// All parameters and float buffers of a model in one contiguous buffer, with a gradient buffer of the same
/// layout, plus int64 counters (BatchNorm's `num_batches_tracked`).
///
/// Names are the PyTorch `state_dict` keys of the research module tree (`backbone.layer2.0.downsample.1.running_var`),
/// so checkpoints load into PyTorch unchanged. Layers register their tensors at construction and read them
/// through `values(_:)` / `gradients(_:)` pointers fetched at each use.
public final class ParameterStore {
    /// What a named tensor is.
    public enum Kind: Sendable, Equatable {
        /// Learned by gradient descent (when trainable).
        case parameter
        /// State updated by the forward pass (running statistics); never has a gradient.
        case buffer
    }

    /// One named tensor.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public let count: Int
        public let kind: Kind
        public var trainable: Bool
    }

    public private(set) var entries: [Entry] = []
    /// Per entry, a counter bumped by every write through `set` or `touch` (AdamW touches what it updates), so
    /// layers can cache values derived from a tensor, such as gathered weight columns.
    public private(set) var versions: [Int] = []
    /// int64 counters by name (`…num_batches_tracked`).
    public private(set) var counterNames: [String] = []
    public var counters: [Int64] = []

    private var storage: UnsafeMutablePointer<Float>
    private var gradientStorage: UnsafeMutablePointer<Float>
    private var capacity: Int
    /// Total floats in use.
    public private(set) var totalCount = 0

    public init(capacity: Int = 1024) {
        self.capacity = max(1, capacity)
        storage = .allocate(capacity: self.capacity)
        gradientStorage = .allocate(capacity: self.capacity)
    }

    deinit {
        storage.deallocate()
        gradientStorage.deallocate()
    }

    /// Registers a tensor, zero-initialised; names must be unique.
    public func add(_ name: String, shape: [Int], kind: Kind = .parameter, trainable: Bool = true) -> ParameterRef {
        precondition(!entries.contains { $0.name == name }, "duplicate tensor name \(name)")
        let count = shape.reduce(1, *)
        if totalCount + count > capacity { grow(to: totalCount + count) }
        (storage + totalCount).initialize(repeating: 0, count: count)
        (gradientStorage + totalCount).initialize(repeating: 0, count: count)
        let ref = ParameterRef(index: entries.count, offset: totalCount, count: count)
        entries.append(
            Entry(
                name: name, shape: shape, offset: totalCount, count: count, kind: kind,
                trainable: kind == .parameter && trainable))
        versions.append(0)
        totalCount += count
        return ref
    }

    /// Registers an int64 counter; returns its index.
    public func addCounter(_ name: String) -> Int {
        counterNames.append(name)
        counters.append(0)
        return counters.count - 1
    }

    private func grow(to needed: Int) {
        var newCapacity = capacity
        while newCapacity < needed { newCapacity *= 2 }
        let values = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity)
        let gradients = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity)
        values.moveInitialize(from: storage, count: totalCount)
        gradients.moveInitialize(from: gradientStorage, count: totalCount)
        storage.deallocate()
        gradientStorage.deallocate()
        storage = values
        gradientStorage = gradients
        capacity = newCapacity
    }

    /// The values of `ref` (valid until the next `add`).
    public func values(_ ref: ParameterRef) -> UnsafeMutablePointer<Float> { storage + ref.offset }

    /// The gradient of `ref` (valid until the next `add`).
    public func gradients(_ ref: ParameterRef) -> UnsafeMutablePointer<Float> { gradientStorage + ref.offset }

    /// Records that the values of `ref` changed (invalidates caches derived from them).
    public func touch(_ ref: ParameterRef) { versions[ref.index] &+= 1 }

    /// Whether `ref` receives gradients.
    public func isTrainable(_ ref: ParameterRef) -> Bool { entries[ref.index].trainable }

    /// Freezes or unfreezes every parameter whose name starts with `prefix`; a tensor whose state changes gets a
    /// zero gradient (what `zeroGradients` relies on for frozen tensors).
    public func setTrainable(_ trainable: Bool, prefix: String) {
        for i in entries.indices where entries[i].kind == .parameter && entries[i].name.hasPrefix(prefix) {
            if entries[i].trainable != trainable {
                (gradientStorage + entries[i].offset).update(repeating: 0, count: entries[i].count)
            }
            entries[i].trainable = trainable
        }
    }

    /// Sets every trainable tensor's gradient to zero. Frozen tensors and buffers never receive gradients (layers
    /// check `isTrainable` before accumulating), so theirs stay zero without rewriting them each step: for a
    /// Stage-2 model that skips 11 M of its 11.4 M floats.
    public func zeroGradients() {
        var start = 0
        var end = 0
        for entry in entries where entry.trainable {
            if entry.offset != end {
                (gradientStorage + start).update(repeating: 0, count: end - start)
                start = entry.offset
            }
            end = entry.offset + entry.count
        }
        (gradientStorage + start).update(repeating: 0, count: end - start)
    }

    /// A copy of the named tensor's values.
    public func array(_ ref: ParameterRef) -> [Float] {
        Array(UnsafeBufferPointer(start: values(ref), count: ref.count))
    }

    /// Overwrites the named tensor's values.
    public func set(_ ref: ParameterRef, _ newValues: [Float]) {
        precondition(
            newValues.count == ref.count, "\(entries[ref.index].name): \(newValues.count) values for \(ref.count)")
        let destination = values(ref)
        for (i, value) in newValues.enumerated() { destination[i] = value }
        touch(ref)
    }

    /// The ref of the entry at `index`.
    public func ref(at index: Int) -> ParameterRef {
        ParameterRef(index: index, offset: entries[index].offset, count: entries[index].count)
    }

    /// The ref of a named tensor.
    public func ref(named name: String) -> ParameterRef? {
        guard let entry = entries.firstIndex(where: { $0.name == name }) else { return nil }
        return ParameterRef(index: entry, offset: entries[entry].offset, count: entries[entry].count)
    }

    /// Element counts: all parameters, trainable ones (buffers excluded, as PyTorch's `parameters()`).
    public var parameterCounts: (total: Int, trainable: Int) {
        var total = 0
        var trainable = 0
        for entry in entries where entry.kind == .parameter {
            total += entry.count
            if entry.trainable { trainable += entry.count }
        }
        return (total, trainable)
    }
}
