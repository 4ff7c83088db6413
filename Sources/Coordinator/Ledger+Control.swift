// Ledger+Control: the client actions' durable state — cancelled variants and the seeds an extension added.
import GRDB

/// A seed added to a variant by `ablate extend`.
public struct ExtensionSeed: Sendable, Hashable {
    public var variant: String
    public var seed: UInt64

    public init(variant: String, seed: UInt64) {
        self.variant = variant
        self.seed = seed
    }
}

extension Ledger {
    /// The variants whose cells a client cancelled (`ablate cancel`), sorted.
    public func cancelledVariants() throws -> [String] {
        try read("read cancelled variants") { db in
            try String.fetchAll(db, sql: "SELECT variant FROM cancelled_variants ORDER BY variant")
        }
    }

    /// Makes `variants` exactly the cancelled ones, in one transaction (variants kept keep their time).
    public func setCancelledVariants(_ variants: Set<String>, at time: Double) throws {
        try write("set \(variants.count) cancelled variants") { db in
            let held = Set(try String.fetchAll(db, sql: "SELECT variant FROM cancelled_variants"))
            for gone in held.subtracting(variants) {
                try db.execute(sql: "DELETE FROM cancelled_variants WHERE variant = ?", arguments: [gone])
            }
            for added in variants.subtracting(held).sorted() {
                try db.execute(
                    sql: "INSERT INTO cancelled_variants (variant, cancelled_at) VALUES (?, ?)",
                    arguments: [added, time])
            }
        }
    }

    /// The seeds clients added (`ablate extend`), in the order they were added.
    public func extensionSeeds() throws -> [ExtensionSeed] {
        try read("read extension seeds") { db in
            try Row.fetchAll(db, sql: "SELECT variant, seed FROM extension_seeds ORDER BY added_at, rowid").compactMap {
                row in
                let text: String = row["seed"]
                return UInt64(text).map { ExtensionSeed(variant: row["variant"], seed: $0) }
            }
        }
    }

    /// Records `seeds` as added at `time` and adds `cells` (their cells) to the plan, in one transaction, as
    /// `addPlannedCells` does. Returns the cells as stored.
    @discardableResult
    public func extend(seeds: [ExtensionSeed], cells: [CellRecord], at time: Double) throws -> [CellRecord] {
        try write("extend by \(seeds.count) seeds") { db in
            for seed in seeds {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO extension_seeds (variant, seed, added_at) VALUES (?, ?, ?)",
                    arguments: [seed.variant, String(seed.seed), time])
            }
            return try Self.addPlanned(cells, db)
        }
    }
}
