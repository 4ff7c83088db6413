// ControlValidation: the decode-time rules of CONTROL and CONTROL_REPLY (which fields each action takes, names, limits).

extension FieldChecker {
    /// CONTROL: `request_id` and `sweep` are names (`sweep` may be empty only for `sweeps`); `variant` is a name;
    /// `cells` are 1…`maxControlCells` cell ids or prefixes (6…64 lower-case hex digits); `seeds` are
    /// 1…`maxControlSeeds` distinct non-negative integers; each action takes only its own fields:
    /// `sweeps` none, `cancel`/`resume` `variant`, `retry` exactly one of `failed: true` (with `variant`) and `cells`,
    /// `extend` `seeds` (with `variant`), `report` `format`.
    mutating func control(_ request: ControlRequest) {
        if let problem = PeerNames.nameProblem(request.requestId, maxBytes: FieldLimits.maxRequestIDBytes) {
            failName("field 'request_id' \(problem)")
        }
        if !(request.sweep.isEmpty && request.action == .sweeps),
            let problem = PeerNames.nameProblem(request.sweep)
        {
            failName("field 'sweep' \(problem)")
        }
        if let variant = request.variant, let problem = PeerNames.nameProblem(variant) {
            failName("field 'variant' \(problem)")
        }
        if let cells = request.cells {
            count(cells.count, FieldLimits.maxControlCells, "cells")
            if cells.isEmpty { invalid("cells", "is empty") }
            if let index = cells.firstIndex(where: { !PeerNames.isCellPrefix($0) }) {
                fail("field 'cells[\(index)]' is not a cell id or prefix (6…64 lower-case hex digits)")
            }
        }
        if let seeds = request.seeds {
            count(seeds.count, FieldLimits.maxControlSeeds, "seeds")
            if seeds.isEmpty { invalid("seeds", "is empty") }
            if Set(seeds).count != seeds.count { invalid("seeds", "lists a seed twice") }
        }
        let action = request.action
        let allowed: Set<String> =
            switch action {
            case .sweeps: []
            case .cancel, .resume: ["variant"]
            case .retry: request.failed == true ? ["failed", "variant"] : ["cells", "failed"]
            case .extend: ["variant", "seeds"]
            case .report: ["format"]
            }
        let given: [(String, Bool)] = [
            ("variant", request.variant != nil), ("cells", request.cells != nil), ("failed", request.failed != nil),
            ("seeds", request.seeds != nil), ("format", request.format != nil),
        ]
        for (field, present) in given where present && !allowed.contains(field) {
            fail("field '\(field)' is not taken by action '\(action.rawValue)'")
        }
        if action == .retry, (request.failed == true) == (request.cells != nil) {
            fail("action 'retry' takes exactly one of 'failed: true' and 'cells'")
        }
        if action == .extend, request.seeds == nil { fail("action 'extend' needs field 'seeds'") }
        if action == .report, request.format == nil { fail("action 'report' needs field 'format'") }
    }

    /// CONTROL_REPLY: `request_id` is a name; `ok` false comes with an `error` and no `result`, `ok` true with a
    /// `result`; the cells it lists are cell ids, at most `maxControlReplyCells` of them, and the names are names.
    mutating func controlReply(_ reply: ControlReply) {
        if let problem = PeerNames.nameProblem(reply.requestId, maxBytes: FieldLimits.maxRequestIDBytes) {
            failName("field 'request_id' \(problem)")
        }
        if reply.ok != (reply.result != nil) || reply.ok == (reply.error != nil) {
            fail("'ok' true takes a 'result' and no 'error'; 'ok' false an 'error' and no 'result'")
        }
        guard let result = reply.result else { return }
        let cells = (result.cells ?? []) + (result.existing ?? [])
        count(cells.count, FieldLimits.maxControlReplyCells, "cells")
        count(result.sweeps?.count ?? 0, FieldLimits.maxControlReplyCells, "sweeps")
        if let index = cells.firstIndex(where: { !PeerNames.isCellID($0.id) }) {
            fail("field 'cells[\(index)].id' is not 64 lower-case hex digits")
        }
        let names =
            cells.map(\.variant) + (result.cancelledVariants ?? [])
            + (result.sweeps ?? []).flatMap { [$0.name] + $0.cancelledVariants }
        if let name = names.first(where: { PeerNames.nameProblem($0) != nil }),
            let problem = PeerNames.nameProblem(name)
        {
            failName("a name in 'result' \(problem)")
        }
        for sweep in result.sweeps ?? [] {
            for (value, field) in [
                (sweep.cells, "cells"), (sweep.done, "done"), (sweep.running, "running"), (sweep.pending, "pending"),
                (sweep.failed, "failed"), (sweep.cancelled, "cancelled"),
            ] {
                atLeast(value, 0, "sweeps[].\(field)")
            }
            let verdicts = sweep.verdicts ?? [:]
            count(verdicts.count, FieldLimits.maxControlReplyCells, "sweeps[].verdicts")
            if let variant = verdicts.keys.first(where: { PeerNames.nameProblem($0) != nil }) {
                failName("a variant in 'sweeps[].verdicts' \(PeerNames.nameProblem(variant) ?? "")")
            }
            if verdicts.values.contains(where: { !SweepSummary.verdictNames.contains($0) }) {
                fail("field 'sweeps[].verdicts' holds an unknown verdict")
            }
        }
        if let file = result.report {
            if !ControlReportFormat.allCases.map(\.fileName).contains(file.name) {
                fail("field 'report.name' is not one of report.md, report.csv, report.json, report.html")
            }
            if !Hex.isDigest(file.sha256) { fail("field 'report.sha256' is not 64 lower-case hex digits") }
            if file.size < 0 || file.size > FieldLimits.maxReportBytes {
                fail("field 'report.size' is outside 0 … \(FieldLimits.maxReportBytes)")
            }
        }
    }
}
