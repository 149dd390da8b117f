// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]


let package = Package(
    name: "Faultline",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "faultlined", targets: ["faultlined"]),
        .executable(name: "faultctl", targets: ["faultctl"]),
        .library(name: "FaultlineClient", targets: ["FaultlineClient"]),
        // Not an API: the libraries Fuzz/ (a separate package, so its libFuzzer executables stay
        // out of `swift build` and `swift test`) drives. Nothing else should depend on it.
        .library(
            name: "FaultlineFuzzable",
            targets: ["FaultlineCore", "FaultlineConfig", "FaultlineHTTP1", "FaultlineControl", "FaultlineMetrics", "FaultlineSystem"]
        ),
        // Not an API either: FaultlineTLS for Fuzz/'s `tls` target alone, so the other fuzz
        // targets do not link OpenSSL. A product changes no target's dependencies.
        .library(name: "FaultlineFuzzableTLS", targets: ["FaultlineTLS"]),
        // The same for FaultlineHTTP2 and Fuzz/'s `http2` target, so the others do not link nghttp2.
        .library(name: "FaultlineFuzzableHTTP2", targets: ["FaultlineHTTP2"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C shims for what Swift cannot import directly (epoll_data, _GNU_SOURCE calls, ...).
        .target(name: "CFaultlineShims"),

        .target(name: "FaultlineSystem", dependencies: ["CFaultlineShims"], swiftSettings: strict),
        .target(name: "FaultlineLoop", dependencies: ["FaultlineSystem"], swiftSettings: strict),
        .target(name: "FaultlineCore", swiftSettings: strict),
        .target(name: "FaultlineConfig", dependencies: ["FaultlineCore"], swiftSettings: strict),
        .target(name: "FaultlineMetrics", swiftSettings: strict),
        .target(name: "FaultlineHTTP1", swiftSettings: strict),
        // OpenSSL 3 (libssl-dev) through pkg-config; its header wraps the macros Swift cannot call.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // TLS sessions over memory BIOs; the only target that imports COpenSSL.
        .target(name: "FaultlineTLS", dependencies: ["COpenSSL"], swiftSettings: strict),
        // nghttp2 1.52 (libnghttp2-dev) through pkg-config.
        .systemLibrary(name: "CNGHTTP2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        // HTTP/2 sessions over memory (mem_recv/mem_send); the only target that imports CNGHTTP2.
        .target(name: "FaultlineHTTP2", dependencies: ["CNGHTTP2"], swiftSettings: strict),
        .target(
            name: "FaultlineProxy",
            dependencies: ["FaultlineLoop", "FaultlineSystem", "FaultlineCore", "FaultlineMetrics", "FaultlineHTTP1", "FaultlineHTTP2", "FaultlineTLS"],
            swiftSettings: strict
        ),
        .target(
            name: "FaultlineControl",
            dependencies: ["FaultlineLoop", "FaultlineSystem", "FaultlineCore", "FaultlineConfig", "FaultlineMetrics", "FaultlineHTTP1"],
            swiftSettings: strict
        ),
        .target(name: "FaultlineClient", dependencies: ["FaultlineCore", "FaultlineConfig"], swiftSettings: strict),
        // Explore (SPEC §8): the fault space, schedules drawn from a seed, the shrinker. Pure;
        // faultctl runs the trials.
        .target(name: "FaultlineExplore", dependencies: ["FaultlineCore", "FaultlineConfig"], swiftSettings: strict),
        .executableTarget(
            name: "faultlined",
            dependencies: [
                "FaultlineProxy", "FaultlineControl", "FaultlineConfig", "FaultlineCore",
                "FaultlineSystem", "FaultlineLoop", "FaultlineMetrics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "faultctl",
            dependencies: [
                "FaultlineClient", "FaultlineCore", "FaultlineConfig", "FaultlineExplore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // Load generator used by Scripts/bench (ping-pong latency, many-connection rate, idle conns),
        // and Scripts/bench-tls-bio's memory-BIO vs SSL_set_fd measurement (FaultlineTLS).
        .executableTarget(name: "faultline-bench", dependencies: ["FaultlineSystem", "FaultlineTLS"], swiftSettings: strict),

        .target(
            name: "FaultlineTestSupport",
            dependencies: ["FaultlineSystem", "FaultlineCore", "FaultlineConfig"],
            swiftSettings: strict
        ),

        .testTarget(name: "FaultlineSystemTests", dependencies: ["FaultlineSystem"], swiftSettings: strict),
        .testTarget(name: "FaultlineLoopTests", dependencies: ["FaultlineLoop", "FaultlineSystem"], swiftSettings: strict),
        .testTarget(name: "FaultlineCoreTests", dependencies: ["FaultlineCore"], swiftSettings: strict),
        .testTarget(name: "FaultlineConfigTests", dependencies: ["FaultlineConfig", "FaultlineCore"], swiftSettings: strict),
        .testTarget(name: "FaultlineMetricsTests", dependencies: ["FaultlineMetrics"], swiftSettings: strict),
        .testTarget(name: "FaultlineHTTP1Tests", dependencies: ["FaultlineHTTP1"], swiftSettings: strict),
        .testTarget(name: "FaultlineTLSTests", dependencies: ["FaultlineTLS"], swiftSettings: strict),
        .testTarget(name: "FaultlineHTTP2Tests", dependencies: ["FaultlineHTTP2"], swiftSettings: strict),
        .testTarget(name: "FaultlineExploreTests", dependencies: ["FaultlineExplore", "FaultlineConfig"], swiftSettings: strict),
        .testTarget(
            name: "FaultlineProxyTests",
            dependencies: ["FaultlineProxy", "FaultlineCore", "FaultlineLoop", "FaultlineSystem", "FaultlineMetrics", "FaultlineHTTP2", "FaultlineTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "FaultlineControlTests",
            dependencies: ["FaultlineControl", "FaultlineCore", "FaultlineConfig", "FaultlineMetrics", "FaultlineHTTP1", "FaultlineSystem", "FaultlineLoop"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["FaultlineTestSupport", "FaultlineSystem", "FaultlineCore", "FaultlineConfig", "FaultlineClient"],
            swiftSettings: strict
        ),
    ]
)
