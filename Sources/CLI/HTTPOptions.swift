// HTTPOptions: `--http HOST:PORT` and `--http-token-file FILE` of `ablate coordinator` and `ablate local` — checks and start.
import ArgumentParser
import CoordinatorKit
import DashboardKit
import Foundation
import Logging

/// The live dashboard's flags (docs/dashboard.md). Off without `--http`. A loopback address needs no token; any
/// other address is refused without `--http-token-file` (exit 64, one line, before anything is started or
/// written).
struct HTTPOptions: ParsableArguments {
    @Option(help: "Serve the live dashboard at HOST:PORT (e.g. 127.0.0.1:8080; off when absent).") var http: String?
    @Option(
        name: .customLong("http-token-file"),
        help: "File with the dashboard's token (≥ 32 characters); required for a non-loopback --http.")
    var httpTokenFile: String?

    /// The address and token to serve with; nil without `--http`. Reads the token file (once).
    func configuration() throws(DashboardConfigurationError) -> (address: HTTPBindAddress, token: DashboardToken?)? {
        guard let http else {
            if httpTokenFile != nil {
                throw DashboardConfigurationError(message: "--http-token-file needs --http HOST:PORT")
            }
            return nil
        }
        guard let address = HTTPBindAddress(parsing: http) else {
            throw DashboardConfigurationError(
                message: "--http \(http): expected HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080 (port 1-65535)")
        }
        let token = try httpTokenFile.map { path throws(DashboardConfigurationError) in
            try DashboardToken.read(path: path)
        }
        guard address.isLoopback || token != nil else {
            throw DashboardConfigurationError(
                message:
                    "--http \(http): a non-loopback address needs --http-token-file FILE (a secret of at least \(DashboardToken.minimumLength) characters); use 127.0.0.1 to serve this machine only"
            )
        }
        return (address, token)
    }

    /// Checks the flags in `validate()`: a refused setting prints one line and exits 64 (nothing started yet).
    func check() throws {
        do {
            _ = try configuration()
        } catch {
            FileHandle.standardError.write(Data("Error: \(error.message)\n".utf8))
            throw ExitCode(64)
        }
    }

    /// Starts listening (nil without `--http`); a failed bind is a `RunFailure` line.
    func listen(logger: Logger) throws -> DashboardServer? {
        guard let (address, token) = try configuration() else { return nil }
        let server = DashboardServer(address: address, token: token, logger: logger)
        do {
            try server.listen()
        } catch {
            throw RunFailure(message: error.message)
        }
        return server
    }
}
