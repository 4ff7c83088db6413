// H5Dataset: reading and writing whole arrays and row ranges (hyperslabs along the first axis).
import CHDF5

/// An open dataset with its shape and element type.
public final class H5Dataset: H5Object {
    public let id: hid_t
    public let objectPath: String
    public let file: H5File
    /// Extent of each dimension; the first is the row axis.
    public let shape: [Int]
    /// The stored element type, or nil for types Ablate does not read (strings, compounds).
    public let elementType: H5ElementType?

    init(id: hid_t, objectPath: String, file: H5File, shape: [Int], elementType: H5ElementType?) {
        self.id = id
        self.objectPath = objectPath
        self.file = file
        self.shape = shape
        self.elementType = elementType
    }

    deinit { closeAnyObject(id) }

    /// Number of rows (the first dimension; 1 for a scalar).
    public var rowCount: Int { shape.first ?? 1 }
    /// Elements per row (product of the other dimensions).
    public var rowSize: Int { shape.dropFirst().reduce(1, *) }
    /// Total number of elements.
    public var count: Int { shape.reduce(1, *) }

    private func requireType(_ type: H5ElementType, _ operation: String) throws {
        guard elementType == type else {
            let stored = elementType?.rawValue ?? "an unsupported type"
            throw HDF5Error(
                .typeMismatch, operation: operation, file: file.displayPath, object: objectPath,
                detail: "stored as \(stored), expected \(type.rawValue)")
        }
    }

    private func checkRows(_ rows: Range<Int>, _ operation: String) throws {
        guard rows.lowerBound >= 0, rows.upperBound <= rowCount else {
            throw HDF5Error(
                .shapeMismatch, operation: operation, file: file.displayPath, object: objectPath,
                detail: "rows \(rows.lowerBound)..<\(rows.upperBound) outside 0..<\(rowCount)")
        }
    }

    @discardableResult
    /// Runs `body` with a file-space selection of `rows` and a matching memory space.
    private func withSelection<R>(
        _ rows: Range<Int>, _ body: (_ memSpace: hid_t, _ fileSpace: hid_t) throws -> R
    ) throws -> R {
        try HDF5Executor.shared.sync {
            let fileSpace = try h5check("H5Dget_space", context) { H5Dget_space(id) }
            defer { _ = H5Sclose(fileSpace) }
            var start = [hsize_t](repeating: 0, count: shape.count)
            var count = shape.map { hsize_t($0) }
            start[0] = hsize_t(rows.lowerBound)
            count[0] = hsize_t(rows.count)
            try h5check("H5Sselect_hyperslab", context) {
                H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &start, nil, &count, nil)
            }
            let memSpace = try h5check("H5Screate_simple", context) {
                H5Screate_simple(Int32(count.count), &count, nil)
            }
            defer { _ = H5Sclose(memSpace) }
            return try body(memSpace, fileSpace)
        }
    }

    /// Reads the whole dataset.
    public func read<T: H5Scalar>(as type: T.Type = T.self) throws -> [T] {
        try read(rows: 0..<rowCount, as: type)
    }

    /// Reads rows `rows` (all other dimensions whole).
    public func read<T: H5Scalar>(rows: Range<Int>, as type: T.Type = T.self) throws -> [T] {
        let n = rows.count * rowSize
        return try [T](unsafeUninitializedCapacity: n) { buffer, initialized in
            try read(rows: rows, into: buffer)
            initialized = n
        }
    }

    /// Reads rows `rows` into `buffer`, which must hold exactly `rows.count * rowSize` elements.
    public func read<T: H5Scalar>(rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<T>) throws {
        try requireType(T.h5Type, "H5Dread")
        try checkRows(rows, "H5Dread")
        guard buffer.count == rows.count * rowSize else {
            throw HDF5Error(
                .shapeMismatch, operation: "H5Dread", file: file.displayPath, object: objectPath,
                detail: "buffer holds \(buffer.count) elements, rows need \(rows.count * rowSize)")
        }
        if buffer.isEmpty { return }
        if shape.isEmpty {
            try h5check("H5Dread", context) {
                H5Dread(
                    id, T.h5Type.nativeType, ablate_h5s_all(), ablate_h5s_all(), ablate_h5p_default(),
                    buffer.baseAddress)
            }
            return
        }
        try withSelection(rows) { memSpace, fileSpace in
            try h5check("H5Dread", context) {
                H5Dread(id, T.h5Type.nativeType, memSpace, fileSpace, ablate_h5p_default(), buffer.baseAddress)
            }
        }
    }

    /// Writes the whole dataset; `values.count` must equal `count`.
    public func write<T: H5Scalar>(_ values: [T]) throws {
        guard values.count == count else {
            throw HDF5Error(
                .shapeMismatch, operation: "H5Dwrite", file: file.displayPath, object: objectPath,
                detail: "\(values.count) values for shape \(shape)")
        }
        try write(values, rowsFrom: 0)
    }

    /// Writes whole rows starting at row `start`; `values.count` must be a multiple of `rowSize`.
    public func write<T: H5Scalar>(_ values: [T], rowsFrom start: Int) throws {
        try values.withUnsafeBufferPointer { try write($0, rowsFrom: start) }
    }

    /// Writes whole rows from a buffer starting at row `start`.
    public func write<T: H5Scalar>(_ values: UnsafeBufferPointer<T>, rowsFrom start: Int) throws {
        try requireType(T.h5Type, "H5Dwrite")
        guard rowSize > 0 ? values.count % rowSize == 0 : values.isEmpty else {
            throw HDF5Error(
                .shapeMismatch, operation: "H5Dwrite", file: file.displayPath, object: objectPath,
                detail: "\(values.count) values is not a whole number of rows of \(rowSize)")
        }
        let rows = start..<(start + (rowSize > 0 ? values.count / rowSize : 0))
        try checkRows(rows, "H5Dwrite")
        if values.isEmpty { return }
        try withSelection(rows) { memSpace, fileSpace in
            try h5check("H5Dwrite", context) {
                H5Dwrite(id, T.h5Type.nativeType, memSpace, fileSpace, ablate_h5p_default(), values.baseAddress)
            }
        }
    }
}
