// OutputWatcher: a command's output directory, polled — new metrics.jsonl lines and checkpoint files once complete.
import AblateSupport
import Foundation
import RunSpec
import WireProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file of the output directory that is complete (see `OutputWatcher`).
public struct CompletedFile: Sendable, Equatable {
    /// Path relative to the output directory.
    public var relativePath: String
    /// The name the file is known by centrally: its base name.
    public var name: String
    public var path: String
}

/// A `metrics.jsonl` line that breaks the contract (the attempt fails deterministically).
public struct MetricsLineError: Error, CustomStringConvertible, Equatable {
    public var line: Int
    public var problem: String
    public var description: String { "metrics.jsonl line \(line): \(problem)" }
}

/// Watches a command's `$ABLATE_OUT` (docs/bring-your-own-trainer.md):
/// - `metrics.jsonl`: each complete line (ended by a newline; at exit, also a last unterminated one) is one epoch:
///   a JSON object with an integer `epoch` and a number under `metric` (the sweep's metric, `val_macro_f1` by
///   default); `val_macro_f1`, `val_loss`, `train_loss`, `seconds` are read when present; the line is kept verbatim.
/// - files anywhere below whose base name matches one of `patterns` (shell globs; a pattern with a `/` matches the
///   path relative to the directory instead) and does not start with `.`:
///   a file is complete when its size, modification time and inode are unchanged between two polls and differ
///   from the version already forwarded (a file replaced by rename, or rewritten, is forwarded again). At exit,
///   every matching file not yet forwarded in its current version is complete.
public struct OutputWatcher: Sendable {
    public static let metricsFile = "metrics.jsonl"
    /// Checkpoint and prediction files streamed by default.
    public static let defaultPatterns = ["*.h5", "*.hdf5", "*.pt", "*.pth", "*.ckpt", "*.safetensors", "*.npz"]

    private struct Signature: Equatable, Sendable {
        var size: Int64
        var mtime: Int64
        var inode: UInt64
    }

    public let directory: String
    public let patterns: [String]
    /// The key every line must carry as a number.
    public let metric: String
    private var metricsOffset: UInt64 = 0
    private var pending: [UInt8] = []
    private var lineNumber = 0
    private var lastSeen: [String: Signature] = [:]
    private var forwarded: [String: Signature] = [:]

    public init(
        directory: String, patterns: [String] = OutputWatcher.defaultPatterns,
        metric: String = MetricCatalog.defaultName
    ) {
        self.directory = directory
        self.patterns = patterns
        self.metric = metric
    }

    /// New metrics lines and newly complete files since the last poll. `final` is the poll after the command
    /// exited. Throws on the first bad metrics line (the lines before it are not returned again).
    public mutating func poll(final: Bool) throws(MetricsLineError) -> (metrics: [MetricsLine], files: [CompletedFile])
    {
        let metrics = try readMetrics(final: final)
        return (metrics, completedFiles(final: final))
    }

    // MARK: - metrics.jsonl

    private mutating func readMetrics(final: Bool) throws(MetricsLineError) -> [MetricsLine] {
        let path = "\(directory)/\(Self.metricsFile)"
        if let handle = FileHandle(forReadingAtPath: path) {
            defer { try? handle.close() }
            if (try? handle.seek(toOffset: metricsOffset)) != nil, let data = try? handle.readToEnd() {
                pending += data
                metricsOffset += UInt64(data.count)
            }
        }
        var lines: [[UInt8]] = []
        while let newline = pending.firstIndex(of: 0x0A) {
            lines.append(Array(pending[..<newline]))
            pending.removeSubrange(...newline)
        }
        if final, !pending.isEmpty {
            lines.append(pending)
            pending.removeAll()
        }
        var out: [MetricsLine] = []
        for bytes in lines {
            lineNumber += 1
            let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty { continue }
            out.append(try Self.parse(text, line: lineNumber, metric: metric))
        }
        return out
    }

    private struct Fields: Decodable {
        var epoch: Double
        var valMacroF1: Double?
        var valLoss: Double?
        var trainLoss: Double?
        var seconds: Double?
        enum CodingKeys: String, CodingKey {
            case epoch
            case valMacroF1 = "val_macro_f1"
            case valLoss = "val_loss"
            case trainLoss = "train_loss"
            case seconds
        }
    }

    /// One line of `metrics.jsonl`; `metric` is the key it must carry as a number (`val_macro_f1` by default).
    public static func parse(_ text: String, line: Int, metric: String = MetricCatalog.defaultName)
        throws(MetricsLineError) -> MetricsLine
    {
        guard text.hasPrefix("{") else { throw MetricsLineError(line: line, problem: "not a JSON object") }
        let fields: Fields
        do {
            fields = try JSONDecoder().decode(Fields.self, from: Data(text.utf8))
        } catch DecodingError.keyNotFound(let key, _) {
            throw MetricsLineError(line: line, problem: "missing '\(key.stringValue)'")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            let key = context.codingPath.last?.stringValue ?? "?"
            let kind = key == "epoch" ? "an integer" : "a number"
            throw MetricsLineError(line: line, problem: "'\(key)' is not \(kind)")
        } catch DecodingError.dataCorrupted(let context) where !context.codingPath.isEmpty {
            let key = context.codingPath.last?.stringValue ?? "?"
            throw MetricsLineError(line: line, problem: "'\(key)' is not \(key == "epoch" ? "an integer" : "a number")")
        } catch {
            throw MetricsLineError(line: line, problem: "not valid JSON (values must be finite numbers)")
        }
        guard fields.epoch == fields.epoch.rounded(), abs(fields.epoch) < 1e9 else {
            throw MetricsLineError(line: line, problem: "'epoch' is not an integer")
        }
        let epoch = Int(fields.epoch)
        guard epoch >= 0 else { throw MetricsLineError(line: line, problem: "'epoch' is \(epoch), must be at least 0") }
        if metric == MetricCatalog.defaultName {
            guard fields.valMacroF1 != nil else { throw MetricsLineError(line: line, problem: "missing '\(metric)'") }
        } else {
            let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            guard let value = object?[metric] else {
                throw MetricsLineError(line: line, problem: "missing '\(metric)' (the sweep's metric)")
            }
            // A JSON boolean bridges to NSNumber too.
            guard let number = value as? NSNumber, !number.isJSONBoolean, number.doubleValue.isFinite
            else { throw MetricsLineError(line: line, problem: "'\(metric)' is not a number") }
        }
        return MetricsLine(
            line: line, epoch: epoch, valMacroF1: fields.valMacroF1 ?? .nan, valLoss: fields.valLoss ?? .nan,
            trainLoss: fields.trainLoss ?? .nan, seconds: fields.seconds ?? 0, record: text)
    }

    // MARK: - Files

    private mutating func completedFiles(final: Bool) -> [CompletedFile] {
        var current: [String: Signature] = [:]
        for relative in matchingFiles() {
            if let signature = Self.signature(of: "\(directory)/\(relative)") { current[relative] = signature }
        }
        var complete: [CompletedFile] = []
        for (relative, signature) in current.sorted(by: { $0.key < $1.key }) where forwarded[relative] != signature {
            guard final || lastSeen[relative] == signature else { continue }
            // Larger than the protocol lets a worker send: it could never be stored.
            guard signature.size <= FieldLimits.maxFileBytes else { continue }
            forwarded[relative] = signature
            let name = (relative as NSString).lastPathComponent
            complete.append(CompletedFile(relativePath: relative, name: name, path: "\(directory)/\(relative)"))
        }
        lastSeen = current
        return complete
    }

    private func matchingFiles() -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
        var out: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            // A name the protocol refuses (PeerNames) could never be stored: such a file is not forwarded.
            if name.hasPrefix(".") || name == Self.metricsFile || !PeerNames.isFileName(name) { continue }
            if patterns.contains(where: { Self.matches($0, relative: relative, name: name) }) { out.append(relative) }
        }
        return out
    }

    /// Whether the file at `relative` (base name `name`) matches `pattern`: a pattern with a `/` matches the path
    /// relative to the output directory (`*` and `?` within one component), one without matches the base name.
    static func matches(_ pattern: String, relative: String, name: String) -> Bool {
        pattern.contains("/") ? fnmatch(pattern, relative, FNM_PATHNAME) == 0 : fnmatch(pattern, name, 0) == 0
    }

    private static func signature(of path: String) -> Signature? {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        #if os(Linux)
            let modified = info.st_mtim
        #else
            let modified = info.st_mtimespec
        #endif
        let mtime = Int64(modified.tv_sec) * 1_000_000_000 + Int64(modified.tv_nsec)
        return Signature(size: Int64(info.st_size), mtime: mtime, inode: UInt64(info.st_ino))
    }
}
