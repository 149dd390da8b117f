// swift-tools-version: 5.4
// libFuzzer targets for Faultline (docs/HARDENING.md, "Fuzzing"). Build and run them with
// Scripts/fuzz; `swift build` and `swift test` at the top never see them.
//
// Why a separate package: a libFuzzer executable has no `main` of its own (libFuzzer supplies it),
// so it links only with `-sanitize=fuzzer`; in the main package it would break the plain build.
// Why tools version 5.4: from 5.5 on SwiftPM renames an executable's entry point to
// `<module>_main` (so tests can link executables) and tells the linker `main=<module>_main`; an
// `@_cdecl("LLVMFuzzerTestOneInput")` file has no such symbol and the link fails. The harness code
// is therefore compiled in Swift 5 language mode; the code under test keeps its own settings.
import PackageDescription

// The entry point is libFuzzer's; the files are libraries in all but name.
let fuzzer: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "FaultlineFuzz",
    dependencies: [
        .package(name: "Faultline", path: ".."),
    ],
    targets: [
        .target(name: "FuzzSupport", dependencies: [.product(name: "FaultlineFuzzable", package: "Faultline")]),
        .executableTarget(
            name: "FuzzConfig",
            dependencies: ["FuzzSupport", .product(name: "FaultlineFuzzable", package: "Faultline")],
            swiftSettings: fuzzer
        ),
        .executableTarget(
            name: "FuzzHTTP1",
            dependencies: ["FuzzSupport", .product(name: "FaultlineFuzzable", package: "Faultline")],
            swiftSettings: fuzzer
        ),
        .executableTarget(
            name: "FuzzControl",
            dependencies: ["FuzzSupport", .product(name: "FaultlineFuzzable", package: "Faultline")],
            swiftSettings: fuzzer
        ),
        .executableTarget(
            name: "FuzzParsers",
            dependencies: ["FuzzSupport", .product(name: "FaultlineFuzzable", package: "Faultline")],
            swiftSettings: fuzzer
        ),
        // C, not instrumented: libFuzzer's extra counters, for the targets of uninstrumented
        // libraries (OpenSSL, nghttp2) alone.
        .target(name: "CFuzzCounters"),
        // C too: the OpenSSL calls the tls harness makes that FaultlineTLS does not offer.
        .target(name: "CFuzzTLS", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        .executableTarget(
            name: "FuzzTLS",
            dependencies: ["FuzzSupport", "CFuzzCounters", "CFuzzTLS", .product(name: "FaultlineFuzzableTLS", package: "Faultline")],
            swiftSettings: fuzzer
        ),
        .executableTarget(
            name: "FuzzHTTP2",
            dependencies: [
                "FuzzSupport", "CFuzzCounters", .product(name: "FaultlineFuzzableHTTP2", package: "Faultline"),
                .product(name: "FaultlineFuzzable", package: "Faultline"),
            ],
            swiftSettings: fuzzer
        ),
    ]
)
