// H5File: an open HDF5 file on disk or in memory (core driver), with its image bytes for streaming.
import CHDF5
import Foundation
import Synchronization

/// An open HDF5 file. Close it explicitly with `close()` to see errors; `deinit` closes it otherwise.
///
/// Files are written with the 1.8 object format (`libver` bounds EARLIEST…V18) so that every HDF5 reader
/// of the last decade, h5py included, opens them.
public final class H5File: H5Location {
    public let id: hid_t
    /// The path shown in errors (`<memory:N>` for in-memory files).
    public let displayPath: String
    public var context: H5Context { H5Context(file: displayPath, object: "/") }
    public var objectPath: String { "/" }
    public var file: H5File { self }
    private var isOpen = true

    /// What `create` does when the file already exists.
    public enum CreateMode: Sendable {
        case failIfExists
        case truncate
    }

    private init(id: hid_t, displayPath: String) {
        self.id = id
        self.displayPath = displayPath
    }

    deinit {
        if isOpen { try? close() }
    }

    private static let memoryCounter = Atomic<Int>(0)

    private static func makeAccessList(_ context: H5Context) throws -> hid_t {
        let fapl = try h5check("H5Pcreate(file access)", context) { H5Pcreate(ablate_h5p_file_access()) }
        do {
            try h5check("H5Pset_libver_bounds", context) {
                H5Pset_libver_bounds(fapl, H5F_LIBVER_EARLIEST, H5F_LIBVER_V18)
            }
        } catch {
            _ = HDF5Executor.shared.sync { H5Pclose(fapl) }
            throw error
        }
        return fapl
    }

    /// A creation list for the file (its root group) without modification times, so the same content gives the
    /// same bytes: a checkpoint is a function of the run, not of when it was written.
    static func makeCreateList(_ context: H5Context) throws -> hid_t {
        let fcpl = try h5check("H5Pcreate(file create)", context) { H5Pcreate(ablate_h5p_file_create()) }
        do {
            try h5check("H5Pset_obj_track_times", context) { H5Pset_obj_track_times(fcpl, false) }
        } catch {
            _ = HDF5Executor.shared.sync { H5Pclose(fcpl) }
            throw error
        }
        return fcpl
    }

    /// Creates a file on disk.
    public static func create(_ path: String, mode: CreateMode = .failIfExists) throws -> H5File {
        let context = H5Context(file: path, object: "/")
        if mode == .failIfExists, FileManager.default.fileExists(atPath: path) {
            throw HDF5Error(.library, operation: "create", file: path, object: "/", detail: "file already exists")
        }
        let fapl = try makeAccessList(context)
        defer { _ = HDF5Executor.shared.sync { H5Pclose(fapl) } }
        let flags = mode == .truncate ? ablate_h5f_acc_trunc() : ablate_h5f_acc_excl()
        let fcpl = try makeCreateList(context)
        defer { _ = HDF5Executor.shared.sync { H5Pclose(fcpl) } }
        let id = try h5check("H5Fcreate", context) { H5Fcreate(path, flags, fcpl, fapl) }
        return H5File(id: id, displayPath: path)
    }

    /// Opens an existing file, read-only unless `writable`.
    public static func open(_ path: String, writable: Bool = false) throws -> H5File {
        let context = H5Context(file: path, object: "/")
        guard FileManager.default.fileExists(atPath: path) else {
            throw HDF5Error(.fileNotFound, operation: "open", file: path, object: "/", detail: "no such file")
        }
        let accessible = HDF5Executor.shared.sync { H5Fis_hdf5(path) }
        if accessible <= 0 {
            throw HDF5Error(
                .notHDF5, operation: "H5Fis_hdf5", file: path, object: "/",
                detail: "not an HDF5 file, or truncated")
        }
        let flags = writable ? ablate_h5f_acc_rdwr() : ablate_h5f_acc_rdonly()
        let id = try h5check("H5Fopen", context, kind: .notHDF5) { H5Fopen(path, flags, ablate_h5p_default()) }
        return H5File(id: id, displayPath: path)
    }

    /// Creates an empty file that lives only in memory (core driver, no backing store).
    public static func createInMemory() throws -> H5File {
        let name = "<memory:\(memoryCounter.add(1, ordering: .relaxed).newValue)>"
        let context = H5Context(file: name, object: "/")
        let fapl = try makeAccessList(context)
        defer { _ = HDF5Executor.shared.sync { H5Pclose(fapl) } }
        try h5check("H5Pset_fapl_core", context) { H5Pset_fapl_core(fapl, 1 << 20, false) }
        let fcpl = try makeCreateList(context)
        defer { _ = HDF5Executor.shared.sync { H5Pclose(fcpl) } }
        let id = try h5check("H5Fcreate", context) { H5Fcreate(name, ablate_h5f_acc_excl(), fcpl, fapl) }
        return H5File(id: id, displayPath: name)
    }

    /// Opens a read-only in-memory file from the bytes of an HDF5 file (e.g. received over the network).
    public static func open(image: [UInt8], name: String = "<memory image>") throws -> H5File {
        let unique = "\(name)#\(memoryCounter.add(1, ordering: .relaxed).newValue)"
        let context = H5Context(file: name, object: "/")
        guard image.count >= 8, image.prefix(8) == [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a] else {
            throw HDF5Error(
                .notHDF5, operation: "open(image:)", file: name, object: "/",
                detail: "bytes do not start with the HDF5 signature")
        }
        let fapl = try makeAccessList(context)
        defer { _ = HDF5Executor.shared.sync { H5Pclose(fapl) } }
        try h5check("H5Pset_fapl_core", context) { H5Pset_fapl_core(fapl, 1 << 20, false) }
        _ = try image.withUnsafeBytes { raw in
            try h5check("H5Pset_file_image", context) {
                H5Pset_file_image(fapl, UnsafeMutableRawPointer(mutating: raw.baseAddress), raw.count)
            }
        }
        let id = try h5check("H5Fopen", context, kind: .notHDF5) {
            H5Fopen(unique, ablate_h5f_acc_rdonly(), fapl)
        }
        return H5File(id: id, displayPath: name)
    }

    /// Flushes and returns the complete bytes of the file (a valid HDF5 file image).
    public func imageBytes() throws -> [UInt8] {
        try flush()
        let size = try h5check("H5Fget_file_image", context) { H5Fget_file_image(id, nil, 0) }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let copied = try bytes.withUnsafeMutableBytes { raw in
            try h5check("H5Fget_file_image", context) { H5Fget_file_image(id, raw.baseAddress, raw.count) }
        }
        guard copied == size else {
            throw HDF5Error(
                .library, operation: "H5Fget_file_image", file: displayPath, object: "/",
                detail: "image size changed while copying (\(size) then \(copied) bytes)")
        }
        return bytes
    }

    /// Writes buffered data to the file.
    public func flush() throws {
        try h5check("H5Fflush", context) { H5Fflush(id, H5F_SCOPE_GLOBAL) }
    }

    /// Closes every object still open in this file, then the file itself.
    public func close() throws {
        guard isOpen else { return }
        isOpen = false
        try HDF5Executor.shared.sync {
            let selector = ablate_h5f_obj_local_nonfile()
            let count = H5Fget_obj_count(id, selector)
            if count > 0 {
                var ids = [hid_t](repeating: -1, count: count)
                let n = H5Fget_obj_ids(id, selector, count, &ids)
                for object in ids.prefix(max(n, 0)) { closeAnyObject(object) }
            }
            try h5check("H5Fclose", context) { H5Fclose(id) }
        }
    }
}

/// Closes an HDF5 identifier of any object kind, if it is still valid.
func closeAnyObject(_ id: hid_t) {
    HDF5Executor.shared.sync {
        guard H5Iis_valid(id) > 0 else { return }
        switch H5Iget_type(id) {
        case H5I_DATASET: _ = H5Dclose(id)
        case H5I_GROUP: _ = H5Gclose(id)
        case H5I_ATTR: _ = H5Aclose(id)
        case H5I_DATATYPE: _ = H5Tclose(id)
        case H5I_DATASPACE: _ = H5Sclose(id)
        case H5I_GENPROP_LST: _ = H5Pclose(id)
        case H5I_FILE: _ = H5Fclose(id)
        default: break
        }
    }
}
