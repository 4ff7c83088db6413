// swift-tools-version: 6.0
// Ablate: distributed ablation studies for the AV1 partition-prediction CNN.
import PackageDescription

let package = Package(
    name: "ablate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ablate", targets: ["ablate"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.0.0"),
    ],
    targets: [
        // MARK: - C libraries (Debian packages)
        .systemLibrary(name: "CZeroMQ", path: "Sources/CZeroMQ", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        // Own GEMM kernels in C: intrinsics under per-function target attributes, so any x86-64 runs it (no -march).
        .target(
            name: "CKernels", path: "Sources/CKernels",
            cSettings: [.unsafeFlags(["-ffp-contract=off", "-O2"])]),

        // MARK: - Libraries
        .target(
            name: "AblateSupport", dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/Support"),
        // The one log line format every process writes (swift-log's handler), and the journal's priorities.
        .target(
            name: "AblateLog", dependencies: [.product(name: "Logging", package: "swift-log")], path: "Sources/Log"),
        // The contract every module shares: run settings, stages, losses, cell identity, metrics lines.
        .target(name: "RunSpec", path: "Sources/RunSpec"),
        .target(name: "HDF5Kit", dependencies: ["CHDF5", "AblateSupport"], path: "Sources/HDF5"),
        .target(
            name: "DatasetKit",
            dependencies: [
                "HDF5Kit", "RunSpec", "AblateSupport", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Dataset"),
        .target(name: "WireProtocol", dependencies: ["CZeroMQ"], path: "Sources/Protocol"),
        // Both ends of the chunked, hashed file transfers and the stores they fill.
        .target(
            name: "TransferKit",
            dependencies: ["WireProtocol", "AblateSupport", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/Transfer"),
        .target(name: "NN", dependencies: ["CKernels", "COpenBLAS", "RunSpec", "AblateSupport"], path: "Sources/NN"),
        .target(
            name: "WorkerKit",
            dependencies: [
                "RunSpec", "NN", "DatasetKit", "HDF5Kit", "TransferKit", "AblateSupport", "WireProtocol",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Worker"),
        .target(
            name: "CoordinatorKit",
            dependencies: [
                "RunSpec", "WireProtocol", "TransferKit", "DatasetKit", "AblateSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Coordinator"),
        .target(
            name: "ReportKit",
            dependencies: [
                "RunSpec", "CoordinatorKit", "WorkerKit", "DatasetKit", "HDF5Kit", "NN", "AblateSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Report"),
        // The coordinator's read-only live dashboard (HTTP on Hummingbird/SwiftNIO); never imports the trainer.
        .target(
            name: "DashboardKit",
            dependencies: [
                "CoordinatorKit", "RunSpec",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Dashboard"),
        // Benchmarks of the product's parts (`ablate bench`), apart from the product modules.
        .target(
            name: "AblateBench",
            dependencies: [
                "RunSpec", "NN", "WorkerKit", "CoordinatorKit", "TransferKit", "WireProtocol", "AblateSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Sources/Bench"),
        .target(
            name: "AblateCLI",
            dependencies: [
                "RunSpec", "DatasetKit", "HDF5Kit", "WireProtocol", "TransferKit", "NN", "WorkerKit", "CoordinatorKit",
                "ReportKit", "AblateBench", "AblateSupport", "AblateLog", "DashboardKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/CLI"),

        // MARK: - The one binary
        .executableTarget(name: "ablate", dependencies: ["AblateCLI", "AblateLog"], path: "Sources/ablate"),

        // MARK: - Tests
        .target(
            name: "TestSupport", dependencies: ["AblateSupport", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport"),
        .testTarget(name: "HDF5KitTests", dependencies: ["HDF5Kit", "TestSupport"], path: "Tests/HDF5KitTests"),
        .testTarget(
            name: "DatasetKitTests",
            dependencies: [
                "DatasetKit", "RunSpec", "HDF5Kit", "AblateSupport", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/DatasetKitTests", resources: [.copy("Fixtures")]),
        .testTarget(name: "RunSpecTests", dependencies: ["RunSpec"], path: "Tests/RunSpecTests"),
        .testTarget(name: "WireProtocolTests", dependencies: ["WireProtocol"], path: "Tests/WireProtocolTests"),
        .testTarget(
            name: "NNTests", dependencies: ["NN", "RunSpec", "AblateSupport", "HDF5Kit", "TestSupport"],
            path: "Tests/NNTests",
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "WorkerKitTests",
            dependencies: [
                "WorkerKit", "RunSpec", "TransferKit", "NN", "DatasetKit", "HDF5Kit", "AblateSupport", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/WorkerKitTests"),
        .testTarget(
            name: "CoordinatorKitTests",
            dependencies: [
                "CoordinatorKit", "RunSpec", "TransferKit", "WireProtocol", "DatasetKit", "AblateSupport",
                "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Tests/CoordinatorKitTests"),
        .testTarget(
            name: "ReportKitTests",
            dependencies: [
                "ReportKit", "RunSpec", "CoordinatorKit", "WorkerKit", "DatasetKit", "HDF5Kit", "NN", "AblateSupport",
                "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/ReportKitTests", resources: [.copy("Fixtures")]),
        .testTarget(
            name: "DashboardKitTests", dependencies: ["DashboardKit", "CoordinatorKit", "TestSupport"],
            path: "Tests/DashboardKitTests"),
        .testTarget(
            name: "CLITests",
            dependencies: [
                "ablate", "RunSpec", "DatasetKit", "HDF5Kit", "NN", "WorkerKit", "CoordinatorKit", "AblateSupport",
                "AblateLog", "WireProtocol",
                "TestSupport", .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/CLITests", exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
