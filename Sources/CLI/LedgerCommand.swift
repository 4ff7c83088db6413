// LedgerCommand: `ablate ledger check|recover|upgrade`: a state directory's ledger checked, recovered, upgraded.
import ArgumentParser
import CoordinatorKit
import Foundation

/// The ledger's maintenance: a full check, and restoring the coordinator's latest online backup over a damaged file.
struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract:
            "Check a state directory's ledger, restore its latest backup when it is damaged, or upgrade its schema.",
        subcommands: [LedgerCheckCommand.self, LedgerRecoverCommand.self, LedgerUpgradeCommand.self])
}

/// `ablate ledger check`: every page, index and foreign key of `STATE/ledger.sqlite`; exit 1 when damaged.
struct LedgerCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Check every page, index and reference of the ledger (exit 1 when damaged).")

    @Option(help: "State directory of a coordinator.") var state: String

    func run() throws {
        let problems: [String]
        do { problems = try Ledger.check(directory: state) } catch { throw RunFailure(message: "\(error)") }
        guard problems.isEmpty else {
            let path = Ledger.filePath(in: state)
            throw RunFailure(
                message:
                    "\(path): damaged: \(problems.prefix(5).joined(separator: "; "))\(problems.count > 5 ? "; …" : "")"
                    + "; run `ablate ledger recover --state \(state)` to restore its latest backup")
        }
        print("\(Ledger.filePath(in: state)): ok")
    }
}

/// `ablate ledger recover`: moves the damaged ledger aside and restores `STATE/ledger.backup.sqlite`.
struct LedgerRecoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract:
            "Move a damaged ledger aside and restore the coordinator's latest backup (STATE/ledger.backup.sqlite).",
        discussion:
            "The coordinator must not be running. Cells that finished after the backup was taken run again; their earlier results stay in runs/ until then."
    )

    @Option(help: "State directory of a coordinator.") var state: String
    @Flag(help: "Restore even when the current ledger passes the full check.") var force = false

    func run() throws {
        let lock: StateLock
        do { lock = try StateLock(stateDirectory: state) } catch { throw RunFailure(message: "\(error)") }
        defer { withExtendedLifetime(lock) {} }
        if !force, FileManager.default.fileExists(atPath: Ledger.filePath(in: state)),
            let problems = try? Ledger.check(directory: state), problems.isEmpty
        {
            throw RunFailure(
                message:
                    "\(Ledger.filePath(in: state)): passes the full check; nothing to recover (--force restores the backup anyway)"
            )
        }
        let recovery: Ledger.Recovery
        do { recovery = try Ledger.recover(directory: state) } catch { throw RunFailure(message: "\(error)") }
        let formatter = ISO8601DateFormatter()
        print(
            "restored \(Ledger.filePath(in: state)) from the backup of \(formatter.string(from: recovery.backupDate)) (\(recovery.cellsDone) cells done);"
                + " the damaged file is kept as \(recovery.damagedCopy); cells finished after the backup will run again"
        )
    }
}

/// `ablate ledger upgrade`: an older ablate's ledger brought to this version's schema, so that `report` and
/// `status --state` can read the sweep without starting its coordinator.
struct LedgerUpgradeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upgrade",
        abstract:
            "Bring a ledger written by an older ablate to this version's schema (the coordinator must be stopped).")

    @Option(help: "State directory of a stopped coordinator.") var state: String

    func run() throws {
        let lock = try StoppedStateDirectory.lock(state)
        defer { withExtendedLifetime(lock) {} }
        let upgrade: Ledger.Upgrade
        do { upgrade = try Ledger.upgrade(directory: state) } catch { throw RunFailure(message: "\(error)") }
        let path = Ledger.filePath(in: state)
        print(
            upgrade.from == upgrade.to
                ? "\(path): already at schema version \(upgrade.to)"
                : "\(path): schema version \(upgrade.from) → \(upgrade.to)")
    }
}
