// LogThrottle: repeated log lines, rate-limited per kind, with a count of those left out.

/// Lets through the first line of each kind (a short key such as `dropped_header` or `stale_offer`), then at most
/// one per `interval` seconds; the lines held back are counted and reported with the next line of that kind, or by
/// `flush` once the interval has passed. Pure: the caller passes the time (seconds on any monotonic clock). At most
/// `maxKinds` kinds are remembered; a new kind beyond that shares one overflow kind.
public struct LogThrottle: Sendable {
    private struct Kind: Sendable {
        var lastShown: Double
        var suppressed: Int
    }

    /// The least time between two lines of one kind.
    public let interval: Double
    /// Most kinds remembered at once.
    public let maxKinds: Int
    /// The kind that new kinds share once `maxKinds` are remembered.
    public static let overflowKind = "other"

    private var kinds: [String: Kind] = [:]

    /// - Parameters:
    ///   - interval: seconds between two lines of one kind (default 10).
    ///   - maxKinds: most kinds remembered (default 256).
    public init(interval: Double = 10, maxKinds: Int = 256) {
        self.interval = max(interval, 0)
        self.maxKinds = max(maxKinds, 1)
    }

    /// The line to write for one occurrence of `kind` at `now`: `line` itself, followed by how many lines of that
    /// kind were held back since the last one shown; nil when this one is held back (and counted).
    public mutating func admit(_ line: String, kind: String, now: Double) -> String? {
        let key = kinds[kind] != nil || kinds.count < maxKinds ? kind : Self.overflowKind
        guard var state = kinds[key] else {
            kinds[key] = Kind(lastShown: now, suppressed: 0)
            return line
        }
        guard now - state.lastShown >= interval else {
            state.suppressed += 1
            kinds[key] = state
            return nil
        }
        let held = state.suppressed
        kinds[key] = Kind(lastShown: now, suppressed: 0)
        return held == 0
            ? line : "\(line) (and \(held) more like it in the last \(Self.seconds(now - state.lastShown)))"
    }

    /// One line per kind whose held-back lines have waited a whole interval (nothing new of that kind came to carry
    /// the count); kinds quiet for an interval are forgotten. `all` reports and forgets every kind (at shutdown).
    public mutating func flush(now: Double, all: Bool = false) -> [String] {
        var lines: [String] = []
        for (key, state) in kinds.sorted(by: { $0.key < $1.key }) where all || now - state.lastShown >= interval {
            if state.suppressed > 0 {
                lines.append(
                    "\(state.suppressed) more '\(key)' line(s) left out in the last \(Self.seconds(now - state.lastShown))"
                )
            }
            kinds[key] = nil
        }
        return lines
    }

    /// Lines held back and not yet reported.
    public var pending: Int { kinds.values.reduce(0) { $0 + $1.suppressed } }

    private static func seconds(_ value: Double) -> String {
        value.isFinite ? "\(Int(max(0, value).rounded())) s" : "while"
    }
}
