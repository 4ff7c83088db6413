// CoordinatorServer+Storage: the state directory's upkeep — full-disk backlog, part files, checkpoints, backups, counters.
import AblateSupport
import Foundation
import TransferKit
import WireProtocol

extension CoordinatorServer {
    /// The full-disk work of one loop iteration: writes waiting in the backlog are retried, held transfers resume when
    /// room returns, transfers whose attempt ended lose their part files, and a change of pause is logged.
    func storageWork(socket: any Outbox) throws {
        let time = now
        try backlog.retry(now: time, isRetryable: Self.mayPass, perform: { try perform($0, socket: socket) })
        for failure in receiver.takeFailures() {
            note(
                "cannot write an incoming file: \(failure); its transfer waits and restarts when there is room",
                kind: "transfer_write_failed")
        }
        for (peer, outcome) in receiver.resumeHeld(now: time) { try transfer(outcome, peer: peer, socket: socket) }
        for offer in receiver.abandon(
            where: { [scheduler] in !scheduler.isRunning($0.cell, attempt: $0.attempt) }, now: time)
        {
            transferLogger.info(
                "removed the partial \(offer.file.name) of cell \(offer.cell.prefix(12)) attempt \(offer.attempt): that attempt has ended"
            )
        }
        // Offers that waited for another cell's identical file and now send it themselves.
        for (peer, outcome) in receiver.takePromotions() { try transfer(outcome, peer: peer, socket: socket) }
        if !receiver.unclaimed.isEmpty {
            if unclaimedPartsDue == nil, !scheduler.awaitsOrphans {
                unclaimedPartsDue = time + Double(scheduler.settings.expiryMs) / 1000
            }
            if let due = unclaimedPartsDue, time >= due { removeUnclaimedParts() }
        }
        let reason = pauseReason
        if let reason, !wasPaused {
            logger.warning("\(reason): transfers get no credit and writes wait until there is room")
        } else if reason == nil, wasPaused {
            logger.notice("the state directory has room again: transfers and writes resume")
        }
        wasPaused = reason != nil
    }

    func removeUnclaimedParts() {
        let removed = receiver.removeUnclaimed()
        if removed > 0 {
            transferLogger.info(
                "removed \(removed) partial transfer(s) from \(setup.store.stateDirectory)/incoming that no current attempt can resume"
            )
        }
    }

    /// Deletes checkpoints that a later epoch superseded, when a cell has finished (results are linked into
    /// `runs/` by then) or at most every 30 s while cells run, never while writes wait; a failure is logged, never fatal.
    func collectSupersededCheckpoints() {
        guard collectionDue || now - lastCollection > 30 else { return }
        // While writes wait, the ledger may not yet name a stored file that a waiting record will: nothing is collected.
        guard backlog.isEmpty else { return }
        collectionDue = false
        lastCollection = now
        do {
            let removed = try setup.ledger.collectSupersededArtifacts()
            var names = removed.map { String($0.path.dropFirst("artifacts/".count)) }
            if !orphansScanned {
                // Once per start: files whose rows a crash removed before the files themselves.
                orphansScanned = true
                let onDisk = (try? FileManager.default.contentsOfDirectory(atPath: setup.store.directory)) ?? []
                names = Array(Set(names + (try setup.ledger.orphanArtifactFiles(onDisk))))
            }
            for name in names { unlink("\(setup.store.directory)/\(name)") }
            scheduler.forgetArtifacts(removed.map(\.sha256))
            if !removed.isEmpty {
                let megabytes = Double(removed.reduce(0) { $0 + $1.size }) / 1_048_576
                logger.info(
                    "\(String(format: "removed %d superseded checkpoint(s), %.1f MiB", removed.count, megabytes))")
            }
        } catch {
            logger.error("cannot collect superseded checkpoints: \(error)")
        }
    }

    /// An online backup of the ledger at most every `backupInterval` seconds while it changes (and when the loop
    /// ends): `ablate ledger recover` restores it if the ledger is ever damaged. A failure is logged, never fatal.
    func backUpLedger(force: Bool) {
        guard ledgerChanged, force || now - lastBackup >= backupInterval else { return }
        // No copy of the ledger while the state directory lacks room; the next interval tries again.
        guard pauseReason == nil else { return }
        lastBackup = now
        ledgerChanged = false
        do { try setup.ledger.backup() } catch { logger.error("cannot back up the ledger: \(error)") }
    }

    func flushCounters(force: Bool) {
        guard !counters.isEmpty, force || now - lastCounterFlush > 5 else { return }
        lastCounterFlush = now
        var kept: [String: Int] = [:]
        for (name, value) in counters.sorted(by: { $0.key < $1.key }) {
            do {
                try setup.ledger.addToCounter(name, value)
                ledgerChanged = true
            } catch {
                // Kept for the next flush (a full disk passes); the line goes through the throttle.
                kept[name] = value
                if let shown = throttle.admit(
                    "cannot save counter \(name): \(error)", kind: "counter_write_failed", now: now)
                {
                    logger.warning("\(shown)")
                }
            }
        }
        counters = kept
    }
}
