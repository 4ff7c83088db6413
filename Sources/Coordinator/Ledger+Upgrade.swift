// Ledger+Upgrade: brings an older ledger's schema to this version's without serving it (`ablate ledger upgrade`).
import Foundation
import GRDB

extension Ledger {
    /// The schema versions before and after an upgrade.
    public struct Upgrade: Sendable, Equatable {
        /// The version the file had (0 for none).
        public var from: Int
        public var to: Int

        public init(from: Int, to: Int) {
            self.from = from
            self.to = to
        }
    }

    /// Applies the missing migrations to the ledger of `directory`, as a coordinator does when it opens it, so
    /// that `ablate report` and `ablate status --state` (which open it read-only) can read a sweep made by an older
    /// version of ablate. The caller holds the state directory's lock. Throws `LedgerError` (`missing`) when there is
    /// no ledger file, (`schema`) when a newer ablate wrote it.
    public static func upgrade(directory: String) throws -> Upgrade {
        let path = filePath(in: directory)
        guard FileManager.default.fileExists(atPath: path) else {
            throw LedgerError(
                .missing, path: path, operation: "upgrade",
                message: "no such file; is \(directory) a coordinator state directory?")
        }
        let from: Int
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            from = try queue.read { db in
                // The last version of the unbroken run v1, v2, … of applied migrations.
                let applied = Set(try LedgerSchema.migrator.appliedIdentifiers(db))
                return (1...LedgerSchema.version).prefix { applied.contains("v\($0)") }.last ?? 0
            }
            try queue.close()
        } catch {
            throw LedgerError(wrapping: error, path: path, operation: "upgrade")
        }
        try Ledger(directory: directory).close()
        return Upgrade(from: from, to: LedgerSchema.version)
    }
}
