// swift-tools-version: 6.0
import PackageDescription

// Module layout and dependency direction: see DESIGN.md section 1.
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

        .target(name: "GGUF", dependencies: ["CKernels", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Tokenizer", dependencies: ["GGUF"]),
        .target(name: "Engine", dependencies: ["GGUF", "Tokenizer", "CKernels", "CBLAS"]),

        .target(name: "AgentCore"),
        .target(name: "ChatTemplate", dependencies: ["AgentCore", "Tokenizer", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Tools", dependencies: ["AgentCore", "CCurl", "Yams", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "SpecParser", dependencies: ["AgentCore", "Yams"]),
        .target(name: "TranscriptIO", dependencies: ["AgentCore", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Agent", dependencies: ["AgentCore"]),
        .target(name: "LocalModel", dependencies: ["AgentCore", "Engine", "ChatTemplate", "Tokenizer"]),
        .target(name: "RemoteModel", dependencies: ["AgentCore", "CCurl"]),
        .target(name: "AgentTesting", dependencies: ["AgentCore"]),

        .executableTarget(
            name: "loza",
            dependencies: [
                "GGUF", "Tokenizer", "Engine", "AgentCore", "ChatTemplate", "Tools", "SpecParser",
                "TranscriptIO", "Agent", "LocalModel", "RemoteModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .testTarget(name: "KernelTests", dependencies: ["CKernels", "GGUF"]),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF", "CKernels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer", "GGUF"], resources: [.copy("Fixtures")]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "GGUF", "Tokenizer"], resources: [.copy("Fixtures")]),
        .testTarget(name: "AgentTests", dependencies: ["Agent", "AgentCore", "AgentTesting", "TranscriptIO", "SpecParser"]),
        .testTarget(name: "ChatTemplateTests", dependencies: ["ChatTemplate", "AgentCore", "Tokenizer", "GGUF"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ToolsTests", dependencies: ["Tools", "AgentCore"]),
        .testTarget(name: "RemoteModelTests", dependencies: ["RemoteModel", "AgentCore"], resources: [.copy("Resources")]),
        .testTarget(name: "LocalModelTests", dependencies: ["LocalModel", "AgentCore", "ChatTemplate", "Engine", "Tokenizer"]),
        .testTarget(name: "CLITests", dependencies: ["loza", "Agent", "AgentCore", "AgentTesting", "TranscriptIO", "Tools",
                                                .product(name: "Logging", package: "swift-log")]),
    ],
    swiftLanguageModes: [.v6]
)
