import Catalog

/// Which keys each layer's queries attend to. One mode per layer; `full` everywhere is dense causal
/// attention. LoZA (Docs/ARCHITECTURE.md, LoZA) sets about half of the layers to streaming sparse attention;
/// a mode only has to say which key positions a query at position p sees (`KVLayout.keySpans`) and how
/// positions map to cache slots, so the forward pass is the same for every mode.
public struct AttentionPlan: Sendable, Equatable {
    public enum Mode: Sendable, Equatable {
        /// Every key s <= p; the cache keeps every position.
        case full
        /// Streaming sparse attention (SSA): key s is visible to query p iff
        /// `s <= p && (s < sinkBlocks*blockSize || s/blockSize >= p/blockSize - (localBlocks-1))`;
        /// the cache keeps the sink blocks and a ring of the last blocks only.
        case sparse(blockSize: Int, sinkBlocks: Int, localBlocks: Int)

        /// SSA with the LoZA defaults (`LoZADefaults`: B 128, S 1, L 7).
        public static let sparseDefault = Mode.sparse(blockSize: LoZADefaults.blockSize,
                                                      sinkBlocks: LoZADefaults.sinkBlocks,
                                                      localBlocks: LoZADefaults.localBlocks)
    }

    public var layers: [Mode]

    public init(layers: [Mode]) { self.layers = layers }

    public static func full(layerCount: Int) -> AttentionPlan {
        AttentionPlan(layers: Array(repeating: .full, count: layerCount))
    }

    /// A plan from one character per layer (`F` full, `S` sparse with the given B/S/L); nil when a
    /// character is neither or a parameter is out of range.
    public init?(planString: String, blockSize: Int = LoZADefaults.blockSize, sinkBlocks: Int = LoZADefaults.sinkBlocks,
                 localBlocks: Int = LoZADefaults.localBlocks) {
        guard blockSize >= 1, sinkBlocks >= 0, localBlocks >= 1 else { return nil }
        var modes: [Mode] = []
        for ch in planString {
            switch ch {
            case "F", "f": modes.append(.full)
            case "S", "s": modes.append(.sparse(blockSize: blockSize, sinkBlocks: sinkBlocks, localBlocks: localBlocks))
            default: return nil
            }
        }
        guard !modes.isEmpty else { return nil }
        layers = modes
    }

    /// One character per layer: `F` full, `S` sparse (as in LoZA plan strings).
    public var planString: String {
        String(layers.map { mode -> Character in
            switch mode {
            case .full: "F"
            case .sparse: "S"
            }
        })
    }

    /// Number of sparse layers.
    public var sparseCount: Int { layers.filter { $0 != .full }.count }
}
