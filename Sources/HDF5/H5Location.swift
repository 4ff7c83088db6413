// H5Location: groups and datasets inside a file or group (create, open, test, list).
import CHDF5

/// Any open HDF5 object: it has an id and knows where it lives, for error messages.
public protocol H5Object: AnyObject {
    var id: hid_t { get }
    /// The absolute path of the object inside its file.
    var objectPath: String { get }
    /// The file the object belongs to (kept alive while the object is).
    var file: H5File { get }
}

extension H5Object {
    var context: H5Context { H5Context(file: file.displayPath, object: objectPath) }

    func childPath(_ name: String) -> String {
        objectPath == "/" ? "/" + name : objectPath + "/" + name
    }
}

/// A place that holds groups and datasets: the file's root or a group.
public protocol H5Location: H5Object {}

/// How a new dataset is laid out in the file.
public enum H5Storage: Sendable, Equatable {
    /// One contiguous block: fastest to read, no compression.
    case contiguous
    /// Chunks of `rows` along the first axis, optionally byte-shuffled and deflate-compressed.
    case chunked(rows: Int, deflate: Int? = nil, shuffle: Bool = false)
}

extension H5Location {
    /// Creates a sub-group.
    @discardableResult
    public func createGroup(_ name: String) throws -> H5Group {
        let path = childPath(name)
        let ctx = H5Context(file: file.displayPath, object: path)
        let gcpl = try h5check("H5Pcreate(group create)", ctx) { H5Pcreate(ablate_h5p_group_create()) }
        defer { closeAnyObject(gcpl) }
        try h5check("H5Pset_obj_track_times", ctx) { H5Pset_obj_track_times(gcpl, false) }
        let gid = try h5check("H5Gcreate2", ctx) {
            H5Gcreate2(id, name, ablate_h5p_default(), gcpl, ablate_h5p_default())
        }
        return H5Group(id: gid, objectPath: path, file: file)
    }

    /// Opens an existing sub-group (a relative path such as `train` or `a/b`).
    public func group(_ name: String) throws -> H5Group {
        let path = childPath(name)
        let ctx = H5Context(file: file.displayPath, object: path)
        guard try contains(name) else {
            throw HDF5Error(
                .missingObject, operation: "H5Gopen2", file: ctx.file, object: path, detail: "no such group")
        }
        let gid = try h5check("H5Gopen2", ctx, kind: .missingObject) { H5Gopen2(id, name, ablate_h5p_default()) }
        return H5Group(id: gid, objectPath: path, file: file)
    }

    /// Whether a link with this relative path exists (every component is checked).
    public func contains(_ name: String) throws -> Bool {
        var prefix = ""
        for component in name.split(separator: "/") {
            prefix = prefix.isEmpty ? String(component) : prefix + "/" + component
            let ctx = H5Context(file: file.displayPath, object: childPath(prefix))
            let exists = try h5check("H5Lexists", ctx) { H5Lexists(id, prefix, ablate_h5p_default()) }
            if exists == 0 { return false }
        }
        return !prefix.isEmpty
    }

    /// Removes the link `name` (a group or dataset; the space is reclaimed only when the file is rewritten).
    public func removeLink(_ name: String) throws {
        let ctx = H5Context(file: file.displayPath, object: childPath(name))
        try h5check("H5Ldelete", ctx, kind: .missingObject) { H5Ldelete(id, name, ablate_h5p_default()) }
    }

    /// Names of the direct members, in HDF5's name order.
    public func memberNames() throws -> [String] {
        let names = NameCollector()
        let box = Unmanaged.passRetained(names)
        defer { box.release() }
        var index: hsize_t = 0
        try h5check("H5Literate", context) {
            H5Literate(
                id, H5_INDEX_NAME, H5_ITER_INC, &index,
                { _, name, _, data in
                    guard let name, let data else { return 0 }
                    Unmanaged<NameCollector>.fromOpaque(data).takeUnretainedValue().list.append(String(cString: name))
                    return 0
                }, box.toOpaque())
        }
        return names.list
    }

    /// Creates a dataset of `type` with `shape`.
    @discardableResult
    public func createDataset(
        _ name: String, type: H5ElementType, shape: [Int], storage: H5Storage = .contiguous
    ) throws -> H5Dataset {
        let path = childPath(name)
        let ctx = H5Context(file: file.displayPath, object: path)
        guard !shape.isEmpty, shape.allSatisfy({ $0 >= 0 }) else {
            throw HDF5Error(
                .shapeMismatch, operation: "createDataset", file: ctx.file, object: path,
                detail: "invalid shape \(shape)")
        }
        var dims = shape.map { hsize_t($0) }
        let space = try h5check("H5Screate_simple", ctx) { H5Screate_simple(Int32(dims.count), &dims, nil) }
        defer { closeAnyObject(space) }
        let dcpl = try h5check("H5Pcreate(dataset create)", ctx) { H5Pcreate(ablate_h5p_dataset_create()) }
        defer { closeAnyObject(dcpl) }
        // No modification times: the same content gives the same bytes.
        try h5check("H5Pset_obj_track_times", ctx) { H5Pset_obj_track_times(dcpl, false) }
        if case .chunked(let rows, let deflate, let shuffle) = storage, shape.allSatisfy({ $0 > 0 }) {
            var chunk = dims
            chunk[0] = hsize_t(max(1, min(rows, shape[0])))
            try h5check("H5Pset_chunk", ctx) { H5Pset_chunk(dcpl, Int32(chunk.count), &chunk) }
            if shuffle { try h5check("H5Pset_shuffle", ctx) { H5Pset_shuffle(dcpl) } }
            if let level = deflate { try h5check("H5Pset_deflate", ctx) { H5Pset_deflate(dcpl, UInt32(level)) } }
        }
        let did = try h5check("H5Dcreate2", ctx) {
            H5Dcreate2(id, name, type.fileType, space, ablate_h5p_default(), dcpl, ablate_h5p_default())
        }
        return H5Dataset(id: did, objectPath: path, file: file, shape: shape, elementType: type)
    }

    /// Creates a dataset and writes `values` into it.
    @discardableResult
    public func writeDataset<T: H5Scalar>(
        _ name: String, _ values: [T], shape: [Int], storage: H5Storage = .contiguous
    ) throws -> H5Dataset {
        let dataset = try createDataset(name, type: T.h5Type, shape: shape, storage: storage)
        try dataset.write(values)
        return dataset
    }

    /// Opens an existing dataset (relative path).
    public func dataset(_ name: String) throws -> H5Dataset {
        let path = childPath(name)
        let ctx = H5Context(file: file.displayPath, object: path)
        guard try contains(name) else {
            throw HDF5Error(
                .missingObject, operation: "H5Dopen2", file: ctx.file, object: path, detail: "no such dataset")
        }
        let did = try h5check("H5Dopen2", ctx, kind: .missingObject) { H5Dopen2(id, name, ablate_h5p_default()) }
        do {
            let (shape, type) = try HDF5Executor.shared.sync {
                let space = try h5check("H5Dget_space", ctx) { H5Dget_space(did) }
                defer { _ = H5Sclose(space) }
                let rank = try h5check("H5Sget_simple_extent_ndims", ctx) { H5Sget_simple_extent_ndims(space) }
                var dims = [hsize_t](repeating: 0, count: Int(rank))
                try h5check("H5Sget_simple_extent_dims", ctx) { H5Sget_simple_extent_dims(space, &dims, nil) }
                let ftype = try h5check("H5Dget_type", ctx) { H5Dget_type(did) }
                defer { _ = H5Tclose(ftype) }
                return (dims.map { Int($0) }, H5ElementType.classify(ftype))
            }
            return H5Dataset(id: did, objectPath: path, file: file, shape: shape, elementType: type)
        } catch {
            closeAnyObject(did)
            throw error
        }
    }
}

/// Collects names from HDF5 iteration callbacks.
final class NameCollector {
    var list: [String] = []
}

/// An open group.
public final class H5Group: H5Location {
    public let id: hid_t
    public let objectPath: String
    public let file: H5File

    init(id: hid_t, objectPath: String, file: H5File) {
        self.id = id
        self.objectPath = objectPath
        self.file = file
    }

    deinit { closeAnyObject(id) }
}
