// swift-tools-version: 6.0
//
// InferSim: a performance simulator of LLM inference hardware.
// Layers (imports point down only; see README "Architecture"):
//   4  infersim (CLI)
//   3  Scenarios            Validation
//   2  Serving              CPUExecutor
//   1  ServingMetrics       CostModel
//   0  DiscreteEvent        HardwareModel       GGUF      BundledResources
//      (Diagnostics, the one input-error type and strict JSON decoding, sits below them all)
// The simulator side and the executor side meet only in Validation.
import PackageDescription

/// The CPU executor's kernels are memory- and unpack-bound; a native build lets the
/// compiler use AVX2/AVX-512 for the SIMD types (on a default x86-64 build Swift emits SSE2
/// only). This mirrors llama.cpp's GGML_NATIVE default. Set INFERSIM_PORTABLE=1 to build
/// without it.
let nativeFlags: [SwiftSetting] = {
    if Context.environment["INFERSIM_PORTABLE"] != nil { return [] }
    #if arch(x86_64)
    return [.unsafeFlags(["-Xcc", "-march=native", "-target-cpu", "native"])]
    #else
    return []
    #endif
}()

let package = Package(
    name: "InferSim",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "infersim", targets: ["infersim"]),
    ],
    dependencies: [
        // Pinned to the minor versions tested, so that builds are reproducible (Package.resolved
        // stays untracked: a package mirror has its own commit ids).
        .package(url: "https://github.com/apple/swift-argument-parser", .upToNextMinor(from: "1.8.0")),
        .package(url: "https://github.com/apple/swift-collections", .upToNextMinor(from: "1.6.0")),
    ],
    targets: [
        // Support, below layer 0: InputError with its origin, strict JSON, "did you mean".
        .target(name: "Diagnostics"),
        // Core: layer 0
        .target(name: "DiscreteEvent"),
        .target(name: "HardwareModel", dependencies: ["Diagnostics"]),
        .target(name: "GGUF", dependencies: ["Diagnostics"]),
        // The profiles and data files, built into the binary (see Plugins/EmbedResources).
        .target(name: "BundledResources", plugins: ["EmbedResources"]),
        .executableTarget(name: "embed-resources"),
        .plugin(name: "EmbedResources", capability: .buildTool(), dependencies: ["embed-resources"]),
        // Core: layer 1
        .target(name: "CostModel", dependencies: ["Diagnostics", "HardwareModel"]),
        .target(name: "ServingMetrics", dependencies: ["Diagnostics", "DiscreteEvent", "HardwareModel"]),
        // Core: layer 2
        .target(name: "Serving", dependencies: [
            "Diagnostics", "DiscreteEvent", "CostModel", "HardwareModel", "ServingMetrics",
            .product(name: "DequeModule", package: "swift-collections"),
        ]),
        // Executor: layer 2
        .target(name: "CPUExecutor", dependencies: ["Diagnostics", "GGUF"], swiftSettings: nativeFlags),
        // Layer 3
        .target(name: "Scenarios", dependencies: ["Diagnostics", "Serving", "ServingMetrics", "CostModel", "HardwareModel", "BundledResources"]),
        .target(name: "Validation", dependencies: [
            "Diagnostics", "CPUExecutor", "GGUF", "CostModel", "HardwareModel", "Serving", "ServingMetrics",
        ]),
        // Fuzzing entry points (one per parser), for Fuzz/ executables and the corpus replay tests.
        .target(name: "FuzzTargets", dependencies: ["Diagnostics", "Scenarios", "Serving", "CostModel", "HardwareModel", "GGUF", "CPUExecutor"]),
        // CLI: layer 4
        .executableTarget(name: "infersim", dependencies: [
            "Diagnostics", "Scenarios", "Validation", "HardwareModel", "CostModel", "Serving", "ServingMetrics",
            "CPUExecutor", "GGUF", "BundledResources",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Tests
        .target(name: "TestSupport", dependencies: ["GGUF"], path: "Tests/TestSupport"),
        .testTarget(name: "DiscreteEventTests", dependencies: ["DiscreteEvent"]),
        .testTarget(name: "HardwareModelTests", dependencies: ["Diagnostics", "HardwareModel"]),
        .testTarget(name: "GGUFTests", dependencies: ["Diagnostics", "GGUF", "TestSupport"]),
        .testTarget(name: "CostModelTests", dependencies: ["Diagnostics", "CostModel", "HardwareModel"]),
        .testTarget(name: "ServingMetricsTests", dependencies: ["Diagnostics", "ServingMetrics", "DiscreteEvent", "HardwareModel"]),
        .testTarget(name: "ServingTests", dependencies: ["Diagnostics", "Serving", "ServingMetrics", "CostModel", "HardwareModel", "DiscreteEvent"]),
        .testTarget(name: "CPUExecutorTests", dependencies: ["CPUExecutor", "GGUF", "TestSupport"]),
        .testTarget(name: "ScenariosTests", dependencies: ["Diagnostics", "Scenarios", "Serving", "ServingMetrics", "CostModel", "HardwareModel"]),
        .testTarget(name: "ValidationTests", dependencies: ["Diagnostics", "Validation", "CPUExecutor", "CostModel", "HardwareModel", "TestSupport"]),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzTargets"]),
        .testTarget(name: "infersimTests", dependencies: ["infersim", "Validation", "CPUExecutor", "TestSupport", "GGUF"]),
    ],
    swiftLanguageModes: [.v6]
)

/// libFuzzer executables, one per parser, only when asked for (`INFERSIM_FUZZ=1`, as
/// `scripts/fuzz.sh` sets it): each calls libFuzzer's driver, so they link only with
/// `-sanitize=fuzzer`.
if Context.environment["INFERSIM_FUZZ"] != nil {
    package.targets.append(.target(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"))
    for name in ["scenario", "device", "model", "interconnect", "trace-azure", "trace-mooncake", "trace-csv", "trace-jsonl",
                 "gguf", "tokenizer"] {
        package.targets.append(.executableTarget(
            name: "fuzz-\(name)", dependencies: ["FuzzTargets", "CPUExecutor", "GGUF", "CLibFuzzer"], path: "Fuzz/\(name)"))
        package.products.append(.executable(name: "fuzz-\(name)", targets: ["fuzz-\(name)"]))
    }
}
