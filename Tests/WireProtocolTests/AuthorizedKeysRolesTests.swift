// AuthorizedKeysRolesTests: the allowlist's roles — workers/ and clients/, the flat layout as workers, a key in both.
import Foundation
import XCTest

@testable import WireProtocol

final class AuthorizedKeysRolesTests: XCTestCase {
    private func directory() -> String {
        let path = NSTemporaryDirectory() + "ablate-roles-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, 0o755)
        return path
    }

    /// Writes a key pair named `name` in `directory` and keeps only its `.pub`.
    private func key(_ name: String, in directory: String) throws -> CurveKeyPair {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        chmod(directory, 0o755)
        let pair = try CurveKeyPair.generate()
        _ = try CurveKeyFile.write(pair, directory: directory, name: name)
        try FileManager.default.removeItem(atPath: "\(directory)/\(name).key")
        return pair
    }

    func testFlatLayoutMeansWorkers() throws {
        let root = directory()
        let gpu = try key("gpu0", in: root)
        XCTAssertEqual(
            try AuthorizedKeys.loadKeys(directory: root),
            [AuthorizedKey(name: "workers/gpu0", role: .worker, publicKey: gpu.publicKey, file: "gpu0.pub")])
        XCTAssertEqual(try AuthorizedKeys.load(directory: root), ["gpu0.pub": gpu.publicKey])
    }

    func testWorkersAndClientsDirectoriesGiveRoles() throws {
        let root = directory()
        let flat = try key("old", in: root)
        let worker = try key("gpu-host-1", in: "\(root)/workers")
        let alice = try key("alice", in: "\(root)/clients")
        let keys = try AuthorizedKeys.loadKeys(directory: root)
        XCTAssertEqual(keys.map(\.name), ["workers/old", "workers/gpu-host-1", "clients/alice"])
        XCTAssertEqual(keys.map(\.role), [.worker, .worker, .client])
        XCTAssertEqual(keys.map(\.publicKey), [flat.publicKey, worker.publicKey, alice.publicKey])
        XCTAssertEqual(AuthorizedKey.role(ofUserID: "clients/alice"), .client)
        XCTAssertEqual(AuthorizedKey.role(ofUserID: "workers/gpu-host-1"), .worker)
        XCTAssertNil(AuthorizedKey.role(ofUserID: "alice"))
    }

    func testOneKeyAsWorkerAndClientIsOneClearError() throws {
        let root = directory()
        let pair = try key("both", in: "\(root)/workers")
        try FileManager.default.createDirectory(atPath: "\(root)/clients", withIntermediateDirectories: true)
        chmod("\(root)/clients", 0o755)
        try FileManager.default.copyItem(atPath: "\(root)/workers/both.pub", toPath: "\(root)/clients/bob.pub")
        XCTAssertThrowsError(try AuthorizedKeys.loadKeys(directory: root)) { error in
            XCTAssertTrue(
                "\(error)".contains(
                    "one public key is both workers/both.pub and clients/bob.pub; a key is a worker or a client, not both"
                ),
                "\(error)")
        }
        _ = pair
    }

    func testALooselyPermittedRoleDirectoryIsRefused() throws {
        let root = directory()
        _ = try key("alice", in: "\(root)/clients")
        chmod("\(root)/clients", 0o777)
        XCTAssertThrowsError(try AuthorizedKeys.loadKeys(directory: root)) { error in
            XCTAssertTrue("\(error)".contains("chmod go-w"), "\(error)")
        }
    }
}
