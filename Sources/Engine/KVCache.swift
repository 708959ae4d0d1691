import CKernels

/// K/V tensor storage of one KV head of one layer in f16 (as llama.cpp), laid out [slot][head_dim] so
/// that the head's keys are contiguous for the attention loop. Which position lives in which slot is
/// the business of the head's `KVLayout`; heads of one layer may have different layouts (a per-head
/// plan), so each head has its own capacity.
struct HeadKVStorage {
    var keys: UnsafeMutablePointer<UInt16>     // [capacity][head_dim]
    var values: UnsafeMutablePointer<UInt16>   // [capacity][head_dim]
    var capacity: Int
}

/// The KV cache of a session: storage plus layout (bookkeeping) per (layer, KV head), index
/// `layer * kvHeads + head`, and the number of positions the timeline holds.
final class KVCache {
    let kvHeads: Int
    let headDim: Int
    let layerCount: Int
    /// [layer * kvHeads + head]
    let layouts: [any KVLayout]
    private(set) var heads: [HeadKVStorage]
    private(set) var length = 0

    init(config: ModelConfig, plan: AttentionPlan, initialLength: Int) {
        kvHeads = config.kvHeadCount
        headDim = config.headDim
        layerCount = plan.layers.count
        layouts = plan.layers.flatMap { mode in
            (0..<config.kvHeadCount).map { mode.makeLayout(head: $0, kvHeads: config.kvHeadCount) }
        }
        heads = []
        for layout in layouts {
            heads.append(KVCache.allocate(capacity: max(layout.slotsNeeded(forLength: initialLength), 1), headDim: headDim))
        }
    }

    deinit {
        for h in heads { h.keys.deallocate(); h.values.deallocate() }
    }

    private static func allocate(capacity: Int, headDim: Int) -> HeadKVStorage {
        let n = capacity * headDim
        let k = UnsafeMutablePointer<UInt16>.allocate(capacity: n)
        let v = UnsafeMutablePointer<UInt16>.allocate(capacity: n)
        k.initialize(repeating: 0, count: n)
        v.initialize(repeating: 0, count: n)
        return HeadKVStorage(keys: k, values: v, capacity: capacity)
    }

    /// The layout of KV head `head` of `layer`.
    @inline(__always)
    func layout(_ layer: Int, head: Int) -> any KVLayout { layouts[layer * kvHeads + head] }

    /// Bytes held by the K/V tensors.
    var bytes: Int { heads.reduce(0) { $0 + 2 * 2 * headDim * $1.capacity } }

    /// Make room for a timeline of `newLength` positions (grows storage, copying what is there).
    func reserve(length newLength: Int) {
        for i in heads.indices {
            let need = layouts[i].slotsNeeded(forLength: newLength)
            let old = heads[i]
            guard need > old.capacity else { continue }
            // Double (amortized growth), but never past what the layout can ever need (a sparse
            // head's sink + ring), so its bytes stay constant once the ring is full.
            let cap = max(need, layouts[i].slotsNeeded(forLength: old.capacity * 2))
            let new = KVCache.allocate(capacity: cap, headDim: headDim)
            new.keys.update(from: old.keys, count: old.capacity * headDim)
            new.values.update(from: old.values, count: old.capacity * headDim)
            old.keys.deallocate(); old.values.deallocate()
            heads[i] = new
        }
    }

    func setLength(_ n: Int) { length = n }

    /// Pointers to the key and value vector of `kvHead` at `slot` of `layer`.
    @inline(__always)
    func key(_ layer: Int, head: Int, slot: Int) -> UnsafeMutablePointer<UInt16> {
        heads[layer * kvHeads + head].keys + slot * headDim
    }

    @inline(__always)
    func value(_ layer: Int, head: Int, slot: Int) -> UnsafeMutablePointer<UInt16> {
        heads[layer * kvHeads + head].values + slot * headDim
    }

    /// Store the K and V rows (f32, [n_head_kv * head_dim] each) of position `p` of `layer`.
    func store(layer: Int, position p: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>) {
        for h in 0..<kvHeads {
            let slot = layout(layer, head: h).slot(forPosition: p)
            let kd = key(layer, head: h, slot: slot), vd = value(layer, head: h, slot: slot)
            let ks = k + h * headDim, vs = v + h * headDim
            for i in 0..<headDim {
                kd[i] = loza_f32_to_f16(ks[i])
                vd[i] = loza_f32_to_f16(vs[i])
            }
        }
    }
}
