// H5Attributes: string and numeric attributes on any HDF5 object (UTF-8 variable-length strings, int64, float64).
import CHDF5

/// The value of an attribute as Ablate reads it.
public enum H5AttributeValue: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case integer(Int64)
    case real(Double)
    case integers([Int64])
    case reals([Double])

    public var description: String {
        switch self {
        case .string(let s): s
        case .integer(let i): String(i)
        case .real(let d): String(d)
        case .integers(let a): "[" + a.map(String.init).joined(separator: ", ") + "]"
        case .reals(let a): "[" + a.map { String($0) }.joined(separator: ", ") + "]"
        }
    }
}

extension H5Object {
    // MARK: - Writing

    /// Sets a UTF-8 variable-length string attribute (the form h5py writes and reads as `str`).
    public func setAttribute(_ name: String, _ value: String) throws {
        try HDF5Executor.shared.sync {
            let type = try makeStringType()
            defer { _ = H5Tclose(type) }
            let space = try h5check("H5Screate", attributeContext(name)) { H5Screate(H5S_SCALAR) }
            defer { _ = H5Sclose(space) }
            let aid = try createAttribute(name, type: type, space: space)
            defer { _ = H5Aclose(aid) }
            try value.withCString { cString in
                var pointer: UnsafePointer<CChar>? = cString
                try h5check("H5Awrite", attributeContext(name)) { H5Awrite(aid, type, &pointer) }
            }
        }
    }

    /// Sets a scalar int64 attribute.
    public func setAttribute(_ name: String, _ value: Int64) throws {
        try setNumeric(name, [value], type: .int64, scalar: true)
    }

    /// Sets a scalar int64 attribute from an `Int`.
    public func setAttribute(_ name: String, _ value: Int) throws {
        try setAttribute(name, Int64(value))
    }

    /// Sets a scalar float64 attribute.
    public func setAttribute(_ name: String, _ value: Double) throws {
        try setNumeric(name, [value], type: .float64, scalar: true)
    }

    /// Sets a 1-D int64 attribute.
    public func setAttribute(_ name: String, _ values: [Int64]) throws {
        try setNumeric(name, values, type: .int64, scalar: false)
    }

    /// Sets a 1-D float64 attribute.
    public func setAttribute(_ name: String, _ values: [Double]) throws {
        try setNumeric(name, values, type: .float64, scalar: false)
    }

    // MARK: - Reading

    /// Names of all attributes, in name order.
    public func attributeNames() throws -> [String] {
        let names = NameCollector()
        let box = Unmanaged.passRetained(names)
        defer { box.release() }
        var index: hsize_t = 0
        try h5check("H5Aiterate2", context) {
            H5Aiterate2(
                id, H5_INDEX_NAME, H5_ITER_INC, &index,
                { _, name, _, data in
                    guard let name, let data else { return 0 }
                    Unmanaged<NameCollector>.fromOpaque(data).takeUnretainedValue().list.append(String(cString: name))
                    return 0
                }, box.toOpaque())
        }
        return names.list
    }

    /// The attribute's value, or nil when there is no attribute of that name.
    public func attribute(_ name: String) throws -> H5AttributeValue? {
        let ctx = attributeContext(name)
        return try HDF5Executor.shared.sync {
            let exists = try h5check("H5Aexists", ctx) { H5Aexists(id, name) }
            if exists == 0 { return nil }
            let aid = try h5check("H5Aopen", ctx) { H5Aopen(id, name, ablate_h5p_default()) }
            defer { _ = H5Aclose(aid) }
            let ftype = try h5check("H5Aget_type", ctx) { H5Aget_type(aid) }
            defer { _ = H5Tclose(ftype) }
            let space = try h5check("H5Aget_space", ctx) { H5Aget_space(aid) }
            defer { _ = H5Sclose(space) }
            let points = Int(try h5check("H5Sget_simple_extent_npoints", ctx) { H5Sget_simple_extent_npoints(space) })
            let rank = try h5check("H5Sget_simple_extent_ndims", ctx) { H5Sget_simple_extent_ndims(space) }
            switch H5Tget_class(ftype) {
            case H5T_STRING:
                return .string(try readString(aid, fileType: ftype, ctx))
            case H5T_INTEGER:
                var values = [Int64](repeating: 0, count: points)
                try h5check("H5Aread", ctx) { H5Aread(aid, ablate_h5t_native_int64(), &values) }
                return rank == 0 && points == 1 ? .integer(values[0]) : .integers(values)
            case H5T_FLOAT:
                var values = [Double](repeating: 0, count: points)
                try h5check("H5Aread", ctx) { H5Aread(aid, ablate_h5t_native_double(), &values) }
                return rank == 0 && points == 1 ? .real(values[0]) : .reals(values)
            default:
                throw HDF5Error(
                    .typeMismatch, operation: "H5Aread", file: ctx.file, object: ctx.object,
                    detail: "attribute has a type Ablate does not read")
            }
        }
    }

    /// A required string attribute.
    public func stringAttribute(_ name: String) throws -> String {
        switch try requiredAttribute(name) {
        case .string(let s): return s
        default: throw wrongType(name, expected: "a string")
        }
    }

    /// A required integer attribute.
    public func integerAttribute(_ name: String) throws -> Int64 {
        switch try requiredAttribute(name) {
        case .integer(let i): return i
        default: throw wrongType(name, expected: "an integer")
        }
    }

    /// A required numeric attribute as a Double (integers are converted).
    public func realAttribute(_ name: String) throws -> Double {
        switch try requiredAttribute(name) {
        case .real(let d): return d
        case .integer(let i): return Double(i)
        default: throw wrongType(name, expected: "a number")
        }
    }

    // MARK: - Helpers

    private func attributeContext(_ name: String) -> H5Context {
        H5Context(file: file.displayPath, object: objectPath + (objectPath.hasSuffix("/") ? "" : "/") + "@" + name)
    }

    private func requiredAttribute(_ name: String) throws -> H5AttributeValue {
        guard let value = try attribute(name) else {
            let ctx = attributeContext(name)
            throw HDF5Error(
                .missingObject, operation: "H5Aopen", file: ctx.file, object: ctx.object,
                detail: "missing attribute")
        }
        return value
    }

    private func wrongType(_ name: String, expected: String) -> HDF5Error {
        let ctx = attributeContext(name)
        return HDF5Error(
            .typeMismatch, operation: "H5Aread", file: ctx.file, object: ctx.object,
            detail: "attribute is not \(expected)")
    }

    private func makeStringType() throws -> hid_t {
        let ctx = context
        let type = try h5check("H5Tcopy", ctx) { H5Tcopy(ablate_h5t_c_s1()) }
        do {
            // H5T_VARIABLE is (size_t)-1; Swift imports size_t as Int.
            try h5check("H5Tset_size", ctx) { H5Tset_size(type, -1) }
            try h5check("H5Tset_cset", ctx) { H5Tset_cset(type, H5T_CSET_UTF8) }
        } catch {
            _ = H5Tclose(type)
            throw error
        }
        return type
    }

    /// Creates (replacing any existing) attribute `name`.
    private func createAttribute(_ name: String, type: hid_t, space: hid_t) throws -> hid_t {
        let ctx = attributeContext(name)
        if try h5check("H5Aexists", ctx, { H5Aexists(id, name) }) > 0 {
            try h5check("H5Adelete", ctx) { H5Adelete(id, name) }
        }
        return try h5check("H5Acreate2", ctx) {
            H5Acreate2(id, name, type, space, ablate_h5p_default(), ablate_h5p_default())
        }
    }

    private func setNumeric<T: H5Scalar>(_ name: String, _ values: [T], type: H5ElementType, scalar: Bool) throws {
        let ctx = attributeContext(name)
        try HDF5Executor.shared.sync {
            var dims = [hsize_t(values.count)]
            let space = try h5check("H5Screate", ctx) {
                scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil)
            }
            defer { _ = H5Sclose(space) }
            let aid = try createAttribute(name, type: type.fileType, space: space)
            defer { _ = H5Aclose(aid) }
            _ = try values.withUnsafeBufferPointer { buffer in
                try h5check("H5Awrite", ctx) { H5Awrite(aid, type.nativeType, buffer.baseAddress) }
            }
        }
    }

    private func readString(_ aid: hid_t, fileType: hid_t, _ ctx: H5Context) throws -> String {
        let memType = try h5check("H5Tcopy", ctx) { H5Tcopy(ablate_h5t_c_s1()) }
        defer { _ = H5Tclose(memType) }
        try h5check("H5Tset_cset", ctx) { H5Tset_cset(memType, H5Tget_cset(fileType)) }
        if H5Tis_variable_str(fileType) > 0 {
            try h5check("H5Tset_size", ctx) { H5Tset_size(memType, -1) }
            var pointer: UnsafeMutablePointer<CChar>? = nil
            try h5check("H5Aread", ctx) { H5Aread(aid, memType, &pointer) }
            guard let pointer else { return "" }
            defer { H5free_memory(pointer) }
            return String(cString: pointer)
        }
        let size = H5Tget_size(fileType)
        try h5check("H5Tset_size", ctx) { H5Tset_size(memType, size) }
        var bytes = [UInt8](repeating: 0, count: size + 1)
        try h5check("H5Aread", ctx) { H5Aread(aid, memType, &bytes) }
        let end = bytes.firstIndex(of: 0) ?? size
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}
