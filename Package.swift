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
    ],
    targets: [
        // MARK: - C libraries (Debian packages)
        .systemLibrary(name: "CZeroMQ", path: "Sources/CZeroMQ", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),

        // MARK: - Libraries
        .target(name: "AblateSupport", path: "Sources/Support"),
        .target(name: "HDF5Kit", dependencies: ["CHDF5", "AblateSupport"], path: "Sources/HDF5"),
        .target(
            name: "DatasetKit",
            dependencies: ["HDF5Kit", "AblateSupport", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/Dataset"),
        .target(name: "WireProtocol", dependencies: ["CZeroMQ"], path: "Sources/Protocol"),
        .target(name: "NN", dependencies: ["COpenBLAS", "AblateSupport"], path: "Sources/NN"),
        .target(
            name: "WorkerKit",
            dependencies: ["NN", "DatasetKit", "HDF5Kit", "AblateSupport", "WireProtocol", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/Worker"),
        .target(
            name: "CoordinatorKit",
            dependencies: [
                "WireProtocol", "WorkerKit", "DatasetKit", "AblateSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Sources/Coordinator"),
        .target(
            name: "ReportKit",
            dependencies: ["CoordinatorKit", "WorkerKit", "DatasetKit", "HDF5Kit", "NN", "AblateSupport"],
            path: "Sources/Report"),
        .target(
            name: "AblateCLI",
            dependencies: [
                "DatasetKit", "HDF5Kit", "WireProtocol", "NN", "WorkerKit", "CoordinatorKit", "ReportKit", "AblateSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Sources/CLI"),

        // MARK: - The one binary
        .executableTarget(name: "ablate", dependencies: ["AblateCLI"], path: "Sources/ablate"),

        // MARK: - Tests
        .target(name: "TestSupport", dependencies: ["AblateSupport"], path: "Tests/TestSupport"),
        .testTarget(name: "HDF5KitTests", dependencies: ["HDF5Kit", "TestSupport"], path: "Tests/HDF5KitTests"),
        .testTarget(
            name: "DatasetKitTests",
            dependencies: ["DatasetKit", "HDF5Kit", "AblateSupport", "TestSupport", .product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/DatasetKitTests", resources: [.copy("Fixtures")]),
        .testTarget(name: "WireProtocolTests", dependencies: ["WireProtocol"], path: "Tests/WireProtocolTests"),
        .testTarget(
            name: "NNTests", dependencies: ["NN", "AblateSupport", "HDF5Kit", "TestSupport"], path: "Tests/NNTests",
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "WorkerKitTests", dependencies: ["WorkerKit", "NN", "DatasetKit", "HDF5Kit", "AblateSupport", "TestSupport"],
            path: "Tests/WorkerKitTests"),
        .testTarget(
            name: "CoordinatorKitTests",
            dependencies: [
                "CoordinatorKit", "WireProtocol", "WorkerKit", "DatasetKit", "AblateSupport", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Tests/CoordinatorKitTests"),
        .testTarget(
            name: "ReportKitTests",
            dependencies: [
                "ReportKit", "CoordinatorKit", "WorkerKit", "DatasetKit", "HDF5Kit", "NN", "AblateSupport", "TestSupport",
            ],
            path: "Tests/ReportKitTests", resources: [.copy("Fixtures")]),
        .testTarget(
            name: "CLITests", dependencies: ["ablate", "DatasetKit", "HDF5Kit", "NN", "WorkerKit", "CoordinatorKit", "AblateSupport", "TestSupport"],
            path: "Tests/CLITests"),
    ],
    swiftLanguageModes: [.v6]
)
