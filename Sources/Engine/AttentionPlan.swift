/// Which keys each layer's queries attend to. One mode per layer; `full` everywhere is dense causal
/// attention. LoZA (DESIGN.md section 2) sets about half of the layers to streaming sparse attention;
/// a mode only has to say which key positions a query at position p sees (`KVLayout.keySpans`) and how
/// positions map to cache slots, so the forward pass is the same for every mode.
public struct AttentionPlan: Sendable, Equatable {
    public enum Mode: Sendable, Equatable {
        /// Every key s <= p; the cache keeps every position.
        case full
    }

    public var layers: [Mode]

    public init(layers: [Mode]) { self.layers = layers }

    public static func full(layerCount: Int) -> AttentionPlan {
        AttentionPlan(layers: Array(repeating: .full, count: layerCount))
    }

    /// One character per layer: `F` full (as in LoZA plan strings).
    public var planString: String {
        String(layers.map { mode -> Character in
            switch mode { case .full: "F" }
        })
    }
}
