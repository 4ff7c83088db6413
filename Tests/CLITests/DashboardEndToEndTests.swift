// DashboardEndToEndTests: `ablate coordinator --http` serves the live dashboard — JSON, the page in headless Chromium, tokens.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

final class DashboardEndToEndTests: XCTestCase {
    /// Two variants × one seed, three short epochs each, after the stage-1 job.
    static func sweep(in directory: TemporaryDirectory, name: String) throws -> String {
        let dataset = try LocalCluster.dataset(in: directory)
        directory.write(
            "\(name).yaml",
            text: """
                name: \(name)
                dataset: \(dataset)
                stage1: {epochs: 1, width: 16, seed: 42, max_train_rows: 400, max_val_rows: 200}
                baseline: a
                seeds: [1]
                train: {width: 16, epochs: 3, max_train_rows: 400, max_val_rows: 200}
                variants:
                  a: {loss: cb_focal, gamma: 2.0}
                  b: {loss: ce}

                """)
        return directory.file("\(name).yaml")
    }

    /// The cells of `/api/status`.
    static func statusCells(port: Int) throws -> [[String: Any]] {
        let reply = try HTTPProbe.request("127.0.0.1", port, "/api/status")
        XCTAssertEqual(reply.status, 200, reply.body)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any])
        return try XCTUnwrap(object["cells"] as? [[String: Any]])
    }

    /// The epoch the DOM shows for `cell` in its cells-table row, nil when it has no such row.
    static func domEpoch(_ dom: String, cell: String) -> Int? {
        guard let row = dom.range(of: "<tr data-cell=\"\(cell)\" data-epoch=\"") else { return nil }
        return Int(dom[row.upperBound...].prefix { $0.isNumber })
    }

    func testLiveDashboardServesJSONAndThePageFollowsNewEpochs() throws {
        let directory = TemporaryDirectory()
        let chromium = try HeadlessChromium.find(directory: directory)
        let sweep = try Self.sweep(in: directory, name: "live")
        let port = try HTTPProbe.freePort()
        let cluster = LocalCluster(directory: directory, name: "live")
        defer { cluster.stopAll() }
        let started = Date()
        try cluster.startCoordinator(sweep: sweep, arguments: ["--keep-serving", "--http", "127.0.0.1:\(port)"])
        var cells: [[String: Any]] = []
        try cluster.wait("the dashboard's status with the sweep's cells", timeout: 30) {
            cells = (try? Self.statusCells(port: port)) ?? []
            return cells.count == 3
        }
        let ablation = try XCTUnwrap(cells.first { $0["variant"] as? String == "a" })
        let cell = try XCTUnwrap(ablation["cell"] as? String)
        XCTAssertEqual(ablation["state"] as? String, "pending")
        XCTAssertEqual(ablation["epochs"] as? Int, 3)

        let page = try HTTPProbe.request("127.0.0.1", port, "/")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.headers.lowercased().contains("content-type: text/html"), page.headers)
        XCTAssertTrue(page.body.hasPrefix("<!DOCTYPE html>"))
        XCTAssertFalse(page.body.contains("src=\"http"), "the page loads nothing from elsewhere")
        let head = try HTTPProbe.request("127.0.0.1", port, "/", method: "HEAD")
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.body, "", "HEAD has no body")
        XCTAssertEqual(try HTTPProbe.request("127.0.0.1", port, "/api/report").status, 404, "no report yet")
        XCTAssertEqual(try HTTPProbe.request("127.0.0.1", port, "/nothing").status, 404)
        XCTAssertEqual(try HTTPProbe.request("127.0.0.1", port, "/", method: "POST").status, 405)
        XCTAssertEqual(try HTTPProbe.request("127.0.0.1", port, "/", host: "rebound.example:\(port)").status, 403)

        // Before any worker: the page shows the cell's row at epoch 0, and it polls on its own (more than once).
        let url = "http://127.0.0.1:\(port)/"
        let first = try chromium.dumpDOM(url, budgetMs: 5000)
        XCTAssertEqual(Self.domEpoch(first, cell: cell), 0, String(first.prefix(3000)))
        let polls = first.range(of: "data-polls=\"").map { Int(first[$0.upperBound...].prefix { $0.isNumber }) ?? 0 }
        XCTAssertGreaterThanOrEqual(polls ?? 0, 2, "the page polls the API without reloading")

        // A worker trains; as soon as the ledger has the cell's next epoch, a fresh DOM shows it within seconds.
        try cluster.startWorker("w1")
        var ledgerEpoch = 0
        try cluster.wait("the cell's first epoch in the ledger", timeout: 120) {
            ledgerEpoch = (try? cluster.ledger().cell(cell))?.epochsDone ?? 0
            return ledgerEpoch >= 1
        }
        let seen = Date()
        // The server's snapshot (refreshed each second) has it first; Chromium's virtual time can run ahead of the
        // wall clock, so the page is loaded once the API serves the epoch (the lag below still counts from the ledger).
        try cluster.wait("the epoch in /api/curves", timeout: 10) {
            guard let body = try? HTTPProbe.request("127.0.0.1", port, "/api/curves").body,
                let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
                let entry = (object["cells"] as? [[String: Any]])?.first(where: { $0["cell"] as? String == cell })
            else { return false }
            return ((entry["epochs"] as? [Any])?.count ?? 0) >= ledgerEpoch
        }
        let second = try chromium.dumpDOM(url, budgetMs: 3000)
        let shownEpoch = try XCTUnwrap(Self.domEpoch(second, cell: cell), String(second.prefix(3000)))
        let lag = Date().timeIntervalSince(seen)
        print("dashboard: ledger epoch \(ledgerEpoch), DOM epoch \(shownEpoch) \(String(format: "%.1f", lag)) s later")
        XCTAssertGreaterThanOrEqual(shownEpoch, ledgerEpoch)
        XCTAssertLessThan(lag, 20, "the DOM dump took too long")
        XCTAssertTrue(second.contains("<path d=\"M"), "learning curves are drawn")
        let curves = try HTTPProbe.request("127.0.0.1", port, "/api/curves")
        let curvesObject = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(curves.body.utf8)) as? [String: Any])
        let curve = try XCTUnwrap(
            (curvesObject["cells"] as? [[String: Any]])?.first { $0["cell"] as? String == cell })
        let points = try XCTUnwrap(curve["epochs"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(points.count, ledgerEpoch)
        XCTAssertEqual(points.first?["epoch"] as? Int, 1)
        XCTAssertNotNil(points.first?["metric"] as? Double, "the epoch's validation macro-F1")
        XCTAssertNotNil(points.first?["train_loss"] as? Double)
        XCTAssertTrue(second.contains("data-cell=\"\(cell)\" data-epoch=\"\(shownEpoch)\" data-variant=\"a\""))

        // When the sweep is done the report arrives: the verdict table and the report's figures.
        try cluster.wait("the report", timeout: 180) {
            (try? HTTPProbe.request("127.0.0.1", port, "/api/report").status) == 200
                && (try? HTTPProbe.request("127.0.0.1", port, "/report.html").status) == 200
                && (try? Self.statusCells(port: port).allSatisfy { $0["state"] as? String == "done" }) == true
        }
        let final = try chromium.dumpDOM(url, budgetMs: 5000)
        XCTAssertTrue(final.contains("<tr data-variant=\"b\">"), "verdict row of b")
        let figures = try XCTUnwrap(final.range(of: "id=\"figures\""))
        XCTAssertTrue(final[figures.upperBound...].contains("<svg"), "the report's figures are shown")
        XCTAssertEqual(Self.domEpoch(final, cell: cell), 3)

        // A screenshot at 1,400 px holds far more than a blank page's.
        directory.write("blank.html", text: "<!DOCTYPE html><html><body></body></html>")
        let blank = try chromium.screenshot("file://\(directory.file("blank.html"))", to: directory.file("blank.png"))
        let shot = try chromium.screenshot(url, to: directory.file("dashboard.png"))
        print(
            "screenshot sizes: blank \(blank) B, dashboard \(shot) B; test took \(Int(-started.timeIntervalSinceNow)) s"
        )
        XCTAssertGreaterThan(shot, 5 * max(blank, 1), "the dashboard's screenshot looks blank")
    }

    func testNonLoopbackNeedsTheToken() throws {
        let directory = TemporaryDirectory()
        guard let address = HTTPProbe.nonLoopbackIPv4() else {
            throw XCTSkip("this machine has no non-loopback IPv4 address")
        }
        let secret = "dashboard-secret-" + String(repeating: "7", count: 24)
        directory.write("token", text: secret + "\n")
        let sweep = try LocalCluster.tinySweep(in: directory, name: "guarded")
        let port = try HTTPProbe.freePort()
        let cluster = LocalCluster(directory: directory, name: "guarded")
        defer { cluster.stopAll() }
        try cluster.startCoordinator(
            sweep: sweep,
            arguments: ["--keep-serving", "--http", "0.0.0.0:\(port)", "--http-token-file", directory.file("token")])
        let authorized = ["Authorization": "Bearer \(secret)"]
        try cluster.wait("the dashboard's first status", timeout: 30) {
            let reply = try? HTTPProbe.request(address, port, "/api/status", headers: authorized)
            return reply?.status == 200 && reply?.body.contains("\"sweep\":\"guarded\"") == true
        }
        let refused = try HTTPProbe.request(address, port, "/api/status")
        XCTAssertEqual(refused.status, 401)
        XCTAssertEqual(refused.body, "", "no detail in a refusal")
        XCTAssertEqual(try HTTPProbe.request(address, port, "/").status, 401)
        XCTAssertEqual(
            try HTTPProbe.request(address, port, "/api/status", headers: ["Authorization": "Bearer wrong"]).status, 401)
        XCTAssertEqual(try HTTPProbe.request(address, port, "/api/status?token=\(secret)x").status, 401)
        let bearer = try HTTPProbe.request(address, port, "/api/status", headers: authorized)
        XCTAssertEqual(bearer.status, 200)
        XCTAssertTrue(bearer.body.contains("\"sweep\":\"guarded\""), bearer.body)
        XCTAssertEqual(try HTTPProbe.request(address, port, "/?token=\(secret)").status, 200)
        XCTAssertEqual(try HTTPProbe.request(address, port, "/api/curves?token=\(secret)").status, 200)
        XCTAssertEqual(
            try HTTPProbe.request(
                address, port, "/api/status", method: "DELETE", headers: authorized
            ).status, 405)
        // This machine itself, over loopback, needs no token.
        XCTAssertEqual(try HTTPProbe.request("127.0.0.1", port, "/api/status").status, 200)
    }

    func testRefusedSettingsAndABusyPortLeaveNothingBehind() throws {
        let directory = TemporaryDirectory()
        let sweep = try LocalCluster.tinySweep(in: directory, name: "refused")
        directory.write("short-token", text: "too short\n")
        let cases: [([String], String)] = [
            (
                [
                    "coordinator", "--sweep", sweep, "--state", directory.file("state-a"), "--bind",
                    "tcp://127.0.0.1:0",
                    "--http", "0.0.0.0:8080",
                ],
                "Error: --http 0.0.0.0:8080: a non-loopback address needs --http-token-file"
            ),
            (
                ["local", "--sweep", sweep, "--state", directory.file("state-b"), "--http", "10.1.2.3:8080"],
                "Error: --http 10.1.2.3:8080: a non-loopback address needs --http-token-file"
            ),
            (
                [
                    "local", "--sweep", sweep, "--state", directory.file("state-c"), "--http", "0.0.0.0:8080",
                    "--http-token-file", directory.file("short-token"),
                ],
                "Error: --http-token-file \(directory.file("short-token")): the token must be at least 32 characters"
            ),
            (
                [
                    "coordinator", "--sweep", sweep, "--state", directory.file("state-d"), "--bind",
                    "tcp://127.0.0.1:0",
                    "--http", "127.0.0.1",
                ],
                "Error: --http 127.0.0.1: expected HOST:PORT"
            ),
        ]
        for (arguments, line) in cases {
            let result = try AblateBinary.run(arguments)
            XCTAssertEqual(result.status, 64, result.stderr)
            XCTAssertTrue(result.stderr.hasPrefix(line), result.stderr)
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "one line: \(result.stderr)")
            XCTAssertEqual(result.stdout, "")
        }
        // A port another process holds: one line, and the state directory is not created either.
        let (held, heldPort) = try HTTPProbe.listeningSocket()
        defer { close(held) }
        let busy = try AblateBinary.run([
            "coordinator", "--sweep", sweep, "--state", directory.file("state-e"), "--bind", "tcp://127.0.0.1:0",
            "--http", "127.0.0.1:\(heldPort)",
        ])
        XCTAssertNotEqual(busy.status, 0)
        XCTAssertTrue(busy.stderr.hasPrefix("Error: --http 127.0.0.1:\(heldPort): cannot listen: "), busy.stderr)
        XCTAssertEqual(busy.stderr.split(separator: "\n").count, 1, "one line: \(busy.stderr)")
        XCTAssertEqual(directory.entries().filter { $0.hasPrefix("state-") }, [], "no state directory left")
    }
}
