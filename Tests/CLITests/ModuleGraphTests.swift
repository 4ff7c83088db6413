// ModuleGraphTests: every import names a declared dependency, and no module reaches one it must not (Package.swift).
import Foundation
import Testing

/// Modules a module must never depend on, directly or through others: checked on the transitive closure of the
/// dependencies Package.swift declares.
struct ForbiddenReach: Sendable, CustomStringConvertible {
    enum Targets: Sendable {
        /// These targets or products.
        case named([String])
        /// Any target or product: the module may use system modules only.
        case anything
    }

    let module: String
    let mustNotReach: Targets
    init(_ module: String, mustNotReach: Targets) {
        self.module = module
        self.mustNotReach = mustNotReach
    }

    var description: String {
        switch mustNotReach {
        case .named(let names): "\(module) must not reach \(names.joined(separator: ", "))"
        case .anything: "\(module) must depend on system modules only"
        }
    }
}

@Suite("module graph (Package.swift against the imports)")
struct ModuleGraphTests {
    /// The layering rules.
    static let forbidden: [ForbiddenReach] = [
        // The coordinator schedules and records; it never trains.
        ForbiddenReach(
            "CoordinatorKit",
            mustNotReach: .named(["WorkerKit", "NN", "COpenBLAS", "CKernels", "AblateBench", "Hummingbird"])),
        // The live dashboard reads the coordinator's state; it never imports the trainer or the report's statistics.
        ForbiddenReach(
            "DashboardKit",
            mustNotReach: .named(["WorkerKit", "NN", "COpenBLAS", "CKernels", "ReportKit", "AblateBench"])),
        // Neither does the transfer layer, which both ends share.
        ForbiddenReach("TransferKit", mustNotReach: .named(["WorkerKit", "CoordinatorKit", "NN", "HDF5Kit", "GRDB"])),
        // The datasets and the models know nothing of the network or the processes around them.
        ForbiddenReach("DatasetKit", mustNotReach: .named(["WireProtocol", "NN", "WorkerKit", "CoordinatorKit"])),
        // The models compute; they never log (their callers do).
        ForbiddenReach(
            "NN", mustNotReach: .named(["WireProtocol", "HDF5Kit", "WorkerKit", "CoordinatorKit", "Logging"])),
        // The contract between coordinator and worker (run settings), shared by both: no dependencies at all.
        ForbiddenReach("RunSpec", mustNotReach: .anything),
        // The wire protocol knows bytes and sockets, not models, datasets or the ledger.
        ForbiddenReach("WireProtocol", mustNotReach: .named(["NN", "HDF5Kit", "GRDB", "Logging"])),
    ]

    /// Modules any target may import without declaring them.
    static let systemModules: Set<String> = [
        "Foundation", "FoundationEssentials", "FoundationNetworking", "Glibc", "Musl", "Darwin", "Dispatch",
        "Synchronization", "os", "XCTest", "Testing", "Swift", "_Concurrency",
    ]

    /// The repository root (this file is Tests/CLITests/ModuleGraphTests.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func importsNameDeclaredDependencies() throws {
        let manifest = try PackageManifest.load(root: Self.root)
        var problems: [String] = []
        var fileCount = 0
        var importCount = 0
        for target in manifest.targets where target.kind == .regular || target.kind == .executable {
            let allowed = Set(target.dependencies.map(\.name)).union(Self.systemModules)
            for file in try Self.swiftFiles(under: target.path) {
                fileCount += 1
                let text = try String(contentsOfFile: "\(Self.root)/\(file)", encoding: .utf8)
                for (line, module) in Self.imports(in: text) {
                    importCount += 1
                    guard !allowed.contains(module) else { continue }
                    let declared = target.dependencies.map(\.name).joined(separator: ", ")
                    let problem =
                        "\(file):\(line): \(target.name) imports \(module), which is not among its dependencies in "
                        + "Package.swift [\(declared)]"
                    problems.append(problem)
                }
            }
        }
        try #require(fileCount > 0 && importCount > 0, "no Swift files or no imports found under the targets' paths")
        for problem in problems { Issue.record(Comment(rawValue: problem)) }
    }

    @Test func noModuleReachesAForbiddenOne() throws {
        let manifest = try PackageManifest.load(root: Self.root)
        for rule in Self.forbidden {
            guard manifest.target(rule.module) != nil else {
                Issue.record("\(rule): Package.swift has no target \(rule.module)")
                continue
            }
            if case .named(let names) = rule.mustNotReach {
                for name in names where manifest.target(name) == nil && !manifest.products.contains(name) {
                    Issue.record("\(rule): Package.swift has no target or product \(name)")
                }
            }
            let paths = manifest.reachable(from: rule.module)
            for (name, path) in paths.sorted(by: { $0.key < $1.key }) {
                let forbidden: Bool
                switch rule.mustNotReach {
                case .named(let names): forbidden = names.contains(name)
                case .anything: forbidden = true
                }
                guard forbidden else { continue }
                Issue.record(
                    Comment(rawValue: "\(rule), but it reaches \(name) through \(path.joined(separator: " → "))"))
            }
        }
    }

    /// The parser reads this package's manifest as SwiftPM does: every kind of target, its dependencies in each
    /// spelling, and its path.
    @Test func manifestParserReadsEveryForm() throws {
        let manifest = try PackageManifest.parse(
            """
            // swift-tools-version: 6.0
            import PackageDescription
            let package = Package(
                name: "x", /* a comment with .target(name: "Ignored") */
                targets: [
                    .systemLibrary(name: "CLib", path: "Sources/CLib", providers: [.apt(["lib-dev"])]),
                    .target(name: "A", path: "Sources/A"),  // .target(name: "AlsoIgnored")
                    .target(
                        name: "B",
                        dependencies: [
                            "A", "CLib", .product(name: "GRDB", package: "GRDB.swift"),
                            .target(name: "C", condition: .when(platforms: [.linux])), .byName(name: "D"),
                        ]),
                    .executableTarget(name: "C", dependencies: [.product(name: "Yams", package: "Yams")]),
                    .testTarget(name: "BTests", dependencies: ["B"], path: "Tests/BTests", resources: [.copy("F")]),
                ]
            )
            """)
        #expect(manifest.targets.map(\.name) == ["CLib", "A", "B", "C", "BTests"])
        #expect(manifest.targets.map(\.kind) == [.system, .regular, .regular, .executable, .test])
        #expect(manifest.target("B")?.dependencies.map(\.name) == ["A", "CLib", "GRDB", "C", "D"])
        #expect(manifest.target("B")?.path == "Sources/B")
        #expect(manifest.target("C")?.path == "Sources/C")
        #expect(manifest.target("BTests")?.path == "Tests/BTests")
        #expect(manifest.products == ["D", "GRDB", "Yams"])
        #expect(manifest.reachable(from: "BTests")["Yams"] == ["BTests", "B", "C", "Yams"])
        let source = "import A\n  @testable import B\nimport struct C.D\n// import E\npublic import F.G\n"
        #expect(Self.imports(in: source).map { $0.module } == ["A", "B", "C", "F"])
    }

    /// A manifest the parser cannot read targets from, or one whose target directory is missing, is an error: the
    /// checks above never pass on nothing.
    @Test func unreadableManifestsAreErrors() throws {
        #expect(throws: ManifestError.self) { try PackageManifest.parse("let x = 1") }
        #expect(throws: ManifestError.self) { try PackageManifest.parse("let package = Package(name: \"x\")") }
        #expect(throws: ManifestError.self) { try PackageManifest.parse("let package = Package(targets: [])") }
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("ablate-module-graph-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: "\(root)/Sources/A", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let manifest = #"let package = Package(targets: [.target(name: "A"), .target(name: "B", path: "Sources/B")])"#
        try manifest.write(toFile: "\(root)/Package.swift", atomically: true, encoding: .utf8)
        #expect(throws: ManifestError.self) { try PackageManifest.load(root: root) }
    }

    /// The repository-relative paths of the Swift files under `directory`, sorted.
    static func swiftFiles(under directory: String) throws -> [String] {
        let base = "\(root)/\(directory)"
        guard let enumerator = FileManager.default.enumerator(atPath: base) else {
            throw ManifestError("cannot list \(directory)")
        }
        let files = enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        return files.map { "\(directory)/\($0)" }.sorted()
    }

    /// The modules a Swift file imports, with their line numbers: `import X`, `@testable import X`,
    /// `public import X`, `import struct X.Y` and `import X.Y` all count as X. Lines inside multi-line string
    /// literals are skipped.
    static func imports(in text: String) -> [(line: Int, module: String)] {
        let pattern =
            #/
            ^ \s* (?: @\w+ \s+ )*                                           # attributes: @testable, @_exported, ...
            (?: (?: public | package | internal | fileprivate | private ) \s+ )?
            import \s+ (?: (?: typealias | struct | class | enum | protocol | let | var | func ) \s+ )?
            ( [A-Za-z_] [A-Za-z0-9_]* )                                       # the module
            /#
        var found: [(line: Int, module: String)] = []
        var inMultilineString = false
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.components(separatedBy: "\"\"\"").count % 2 == 0 { inMultilineString.toggle() }
            if inMultilineString { continue }
            if let match = line.prefixMatch(of: pattern) { found.append((index + 1, String(match.1))) }
        }
        return found
    }
}

struct ManifestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The targets of a Package.swift, read from its text (SwiftPM cannot be asked while `swift test` holds the
/// build directory).
struct PackageManifest {
    enum Kind: Equatable { case regular, executable, test, system, other }

    enum Dependency: Equatable {
        /// A name in quotes or `.byName(name:)`: a target of this package if there is one, else a product.
        case byName(String)
        case target(String)
        case product(String)

        var name: String {
            switch self {
            case .byName(let name), .target(let name), .product(let name): name
            }
        }
    }

    struct Target {
        let name: String
        let kind: Kind
        let dependencies: [Dependency]
        let path: String
    }

    let targets: [Target]

    func target(_ name: String) -> Target? { targets.first { $0.name == name } }

    /// Names that are products, not targets of this package.
    var products: Set<String> {
        let names = targets.flatMap(\.dependencies).compactMap { dependency -> String? in
            switch dependency {
            case .product(let name): name
            case .byName(let name): target(name) == nil ? name : nil
            case .target: nil
            }
        }
        return Set(names)
    }

    /// Every target and product `module` depends on, directly or not, each with one dependency path to it
    /// (shortest first: breadth-first).
    func reachable(from module: String) -> [String: [String]] {
        var paths: [String: [String]] = [:]
        var queue: [[String]] = [[module]]
        while !queue.isEmpty {
            let path = queue.removeFirst()
            for dependency in target(path[path.count - 1])?.dependencies ?? [] where dependency.name != module {
                guard paths[dependency.name] == nil else { continue }
                let next = path + [dependency.name]
                paths[dependency.name] = next
                // Products come from other packages; their own dependencies are not this manifest's.
                if case .product = dependency { continue }
                queue.append(next)
            }
        }
        return paths
    }

    /// Reads `root/Package.swift` and checks that it declares targets and that each target's directory exists.
    static func load(root: String) throws -> PackageManifest {
        let text = try String(contentsOfFile: "\(root)/Package.swift", encoding: .utf8)
        let manifest = try parse(text)
        for target in manifest.targets {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: "\(root)/\(target.path)", isDirectory: &isDirectory),
                isDirectory.boolValue
            else {
                throw ManifestError("Package.swift: target \(target.name)'s path \(target.path) is not a directory")
            }
        }
        return manifest
    }

    /// The targets of the `targets:` array of `Package(...)` in a manifest's text.
    static func parse(_ text: String) throws -> PackageManifest {
        var parser = ManifestParser(tokens: ManifestParser.tokenize(text))
        var package: ManifestParser.Node?
        while !parser.atEnd {
            let node = parser.parseExpression()
            if case .call("Package", _) = node { package = node }
        }
        guard case .call(_, let arguments)? = package else {
            throw ManifestError("Package.swift: no Package(...) call found")
        }
        guard case .array(let elements)? = arguments.first(where: { $0.label == "targets" })?.value else {
            throw ManifestError("Package.swift: Package(...) has no `targets: [...]` array")
        }
        var targets: [Target] = []
        for element in elements {
            guard case .call(let function, let arguments) = element else {
                throw ManifestError("Package.swift: a targets element is not a call: \(element)")
            }
            let kind: Kind =
                switch function {
                case ".target": .regular
                case ".executableTarget": .executable
                case ".testTarget": .test
                case ".systemLibrary": .system
                default: .other
                }
            guard case .string(let name)? = arguments.first(where: { $0.label == "name" })?.value else {
                throw ManifestError("Package.swift: a \(function)(...) without a `name:` string")
            }
            var dependencies: [Dependency] = []
            if let value = arguments.first(where: { $0.label == "dependencies" })?.value {
                guard case .array(let items) = value else {
                    throw ManifestError("Package.swift: \(name)'s dependencies are not an array literal")
                }
                for item in items {
                    switch item {
                    case .string(let dependency): dependencies.append(.byName(dependency))
                    case .call(let form, let dependencyArguments):
                        let dependencyName = dependencyArguments.first { $0.label == "name" }?.value
                        guard case .string(let dependency)? = dependencyName else {
                            throw ManifestError("Package.swift: \(name) has a dependency \(form)(...) without a name")
                        }
                        switch form {
                        case ".product": dependencies.append(.product(dependency))
                        case ".target": dependencies.append(.target(dependency))
                        case ".byName": dependencies.append(.byName(dependency))
                        default: throw ManifestError("Package.swift: \(name) has a dependency of unknown form \(form)")
                        }
                    default:
                        throw ManifestError("Package.swift: \(name) has a dependency that is not understood: \(item)")
                    }
                }
            }
            let path: String
            switch arguments.first(where: { $0.label == "path" })?.value {
            case .string(let given)?: path = given
            case nil: path = kind == .test ? "Tests/\(name)" : "Sources/\(name)"
            case let other?: throw ManifestError("Package.swift: \(name)'s path is not a string literal: \(other)")
            }
            targets.append(Target(name: name, kind: kind, dependencies: dependencies, path: path))
        }
        guard !targets.isEmpty else { throw ManifestError("Package.swift: no targets found") }
        return PackageManifest(targets: targets)
    }
}

/// A reader of the expressions a manifest is made of: calls with labelled arguments, array literals, string
/// literals and member references; anything else is skipped token by token.
struct ManifestParser {
    enum Token: Equatable {
        case identifier(String)
        case string(String)
        case symbol(Character)
    }

    indirect enum Node: CustomStringConvertible {
        case string(String)
        case array([Node])
        /// `name(label: value, ...)`; `name` keeps a leading `.` for implicit member calls (`.target`).
        case call(String, [(label: String?, value: Node)])
        case reference(String)
        case other

        var description: String {
            switch self {
            case .string(let text): "\"\(text)\""
            case .array(let items): "[\(items.map(\.description).joined(separator: ", "))]"
            case .call(let name, _): "\(name)(...)"
            case .reference(let name): name
            case .other: "?"
            }
        }
    }

    var tokens: [Token]
    var position = 0

    var atEnd: Bool { position >= tokens.count }

    /// Tokens of Swift source: identifiers (numbers too), string literals (single- and multi-line, without
    /// interpolation), and single-character symbols; comments are dropped.
    static func tokenize(_ text: String) -> [Token] {
        let characters = Array(text)
        var tokens: [Token] = []
        var i = 0
        func at(_ offset: Int) -> Character? { i + offset < characters.count ? characters[i + offset] : nil }
        while i < characters.count {
            let c = characters[i]
            if c.isWhitespace {
                i += 1
            } else if c == "/", at(1) == "/" {
                while i < characters.count, characters[i] != "\n" { i += 1 }
            } else if c == "/", at(1) == "*" {
                i += 2
                while i < characters.count, !(characters[i] == "*" && at(1) == "/") { i += 1 }
                i += 2
            } else if c == "\"" {
                let quotes = at(1) == "\"" && at(2) == "\"" ? 3 : 1
                i += quotes
                var value = ""
                while i < characters.count {
                    if characters[i] == "\\" {
                        if let next = at(1) { value.append(next) }
                        i += 2
                        continue
                    }
                    if characters[i] == "\"", quotes == 1 || (at(1) == "\"" && at(2) == "\"") { break }
                    value.append(characters[i])
                    i += 1
                }
                i += quotes
                tokens.append(.string(value))
            } else if c.isLetter || c.isNumber || c == "_" {
                var word = ""
                while i < characters.count, characters[i].isLetter || characters[i].isNumber || characters[i] == "_" {
                    word.append(characters[i])
                    i += 1
                }
                tokens.append(.identifier(word))
            } else {
                tokens.append(.symbol(c))
                i += 1
            }
        }
        return tokens
    }

    mutating func next() -> Token? {
        guard position < tokens.count else { return nil }
        defer { position += 1 }
        return tokens[position]
    }

    func peek(_ offset: Int = 0) -> Token? { position + offset < tokens.count ? tokens[position + offset] : nil }

    /// One expression; an unknown token is consumed alone as `.other`, so parsing always moves on.
    mutating func parseExpression() -> Node {
        let node: Node
        switch next() {
        case .string(let text)?:
            node = .string(text)
        case .symbol("[")?:
            var items: [Node] = []
            while let token = peek(), token != .symbol("]") {
                if token == .symbol(",") {
                    position += 1
                    continue
                }
                items.append(parseExpression())
            }
            position += 1
            node = .array(items)
        case .symbol(".")?:
            guard case .identifier(let name)? = peek() else { return .other }
            position += 1
            node = parseCall(".\(name)")
        case .identifier(var name)?:
            while peek() == .symbol("."), case .identifier(let member)? = peek(1) {
                name += ".\(member)"
                position += 2
            }
            node = parseCall(name)
        default:
            node = .other
        }
        return node
    }

    /// `name(...)` when a `(` follows, else a reference to `name`.
    mutating func parseCall(_ name: String) -> Node {
        guard peek() == .symbol("(") else { return .reference(name) }
        position += 1
        var arguments: [(label: String?, value: Node)] = []
        while let token = peek(), token != .symbol(")") {
            if token == .symbol(",") {
                position += 1
                continue
            }
            var label: String?
            if case .identifier(let word)? = peek(), peek(1) == .symbol(":") {
                label = word
                position += 2
            }
            arguments.append((label, parseExpression()))
        }
        position += 1
        return .call(name, arguments)
    }
}
