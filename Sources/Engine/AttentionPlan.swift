import Catalog

/// Which keys each layer's queries attend to. One mode per layer; `full` everywhere is dense causal
/// attention. LoZA (Docs/ARCHITECTURE.md, LoZA) sets about half of the layers to streaming sparse attention;
/// a mode only has to say which key positions a query at position p sees (`KVLayout.keySpans`) and how
/// positions map to cache slots, so the forward pass is the same for every mode. A layer may also give
/// each KV head its own mode (`heads`: some heads full, the others sparse), as DuoAttention keeps only
/// the retrieval heads full; the queries of a GQA group follow their KV head.
public struct AttentionPlan: Sendable, Equatable {
    public enum Mode: Sendable, Equatable {
        /// Every key s <= p; the cache keeps every position.
        case full
        /// Streaming sparse attention (SSA): key s is visible to query p iff
        /// `s <= p && (s < sinkBlocks*blockSize || s/blockSize >= p/blockSize - (localBlocks-1))`;
        /// the cache keeps the sink blocks and a ring of the last blocks only.
        case sparse(blockSize: Int, sinkBlocks: Int, localBlocks: Int)
        /// One mode (`full` or `sparse`) per KV head of the layer.
        case heads([Mode])

        /// SSA with the LoZA defaults (`LoZADefaults`: B 128, S 1, L 7).
        public static let sparseDefault = Mode.sparse(blockSize: LoZADefaults.blockSize,
                                                      sinkBlocks: LoZADefaults.sinkBlocks,
                                                      localBlocks: LoZADefaults.localBlocks)

        /// The mode of KV head `h` of a layer with `kvHeads` heads.
        public func mode(ofHead h: Int, kvHeads: Int) -> Mode {
            if case let .heads(modes) = self {
                precondition(modes.count == kvHeads, "per-head mode has \(modes.count) heads, the layer has \(kvHeads)")
                return modes[h]
            }
            return self
        }

        /// Whether any head of the layer is sparse.
        public var hasSparse: Bool {
            switch self {
            case .full: false
            case .sparse: true
            case let .heads(modes): modes.contains { $0.hasSparse }
            }
        }

        /// The first sparse mode of the layer (its B/S/L), if any.
        public var firstSparse: Mode? {
            switch self {
            case .full: nil
            case .sparse: self
            case let .heads(modes): modes.lazy.compactMap(\.firstSparse).first
            }
        }
    }

    public var layers: [Mode]

    public init(layers: [Mode]) { self.layers = layers }

    public static func full(layerCount: Int) -> AttentionPlan {
        AttentionPlan(layers: Array(repeating: .full, count: layerCount))
    }

    /// A plan from one character per layer (`F` full, `S` sparse with the given B/S/L), or, for a layer
    /// whose KV heads differ, one character per head in brackets (`SF[FS]S...`: layer 2 keeps head 0
    /// full and makes head 1 sparse); nil when a character is none of these, brackets are empty or
    /// unbalanced, or a parameter is out of range.
    public init?(planString: String, blockSize: Int = LoZADefaults.blockSize, sinkBlocks: Int = LoZADefaults.sinkBlocks,
                 localBlocks: Int = LoZADefaults.localBlocks) {
        guard blockSize >= 1, sinkBlocks >= 0, localBlocks >= 1 else { return nil }
        let sparse = Mode.sparse(blockSize: blockSize, sinkBlocks: sinkBlocks, localBlocks: localBlocks)
        var modes: [Mode] = []
        var group: [Mode]? = nil
        for ch in planString {
            let mode: Mode
            switch ch {
            case "F", "f": mode = .full
            case "S", "s": mode = sparse
            case "[":
                guard group == nil else { return nil }
                group = []
                continue
            case "]":
                guard let g = group, !g.isEmpty else { return nil }
                modes.append(.heads(g))
                group = nil
                continue
            default: return nil
            }
            if group != nil { group!.append(mode) } else { modes.append(mode) }
        }
        guard group == nil, !modes.isEmpty else { return nil }
        layers = modes
    }

    /// One character per layer: `F` full, `S` sparse (as in LoZA plan strings); a per-head layer as its
    /// heads' characters in brackets.
    public var planString: String {
        func char(_ m: Mode) -> String {
            switch m {
            case .full: "F"
            case .sparse: "S"
            case let .heads(modes): "[" + modes.map(char).joined() + "]"
            }
        }
        return layers.map(char).joined()
    }

    /// Number of layers with at least one sparse head.
    public var sparseCount: Int { layers.filter(\.hasSparse).count }

    /// Number of sparse (layer, KV head) pairs for a model with `kvHeads` KV heads per layer.
    public func sparseHeadCount(kvHeads: Int) -> Int {
        var n = 0
        for l in layers {
            for h in 0..<kvHeads where l.mode(ofHead: h, kvHeads: kvHeads).hasSparse { n += 1 }
        }
        return n
    }

    /// Whether every per-head layer has `kvHeads` heads of full or sparse mode.
    public func fits(kvHeads: Int) -> Bool {
        layers.allSatisfy { layer in
            guard case let .heads(modes) = layer else { return true }
            return modes.count == kvHeads && modes.allSatisfy { if case .heads = $0 { false } else { true } }
        }
    }
}
