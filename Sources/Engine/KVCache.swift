import CKernels

/// K/V tensor storage of one layer in f16 (as llama.cpp), laid out [n_head_kv][slot][head_dim] so that
/// one head's keys are contiguous for the attention loop. Which position lives in which slot is the
/// business of the layer's `KVLayout`.
struct LayerKVStorage {
    var keys: UnsafeMutablePointer<UInt16>     // [n_head_kv][capacity][head_dim]
    var values: UnsafeMutablePointer<UInt16>   // [n_head_kv][capacity][head_dim]
    var capacity: Int
}

/// The KV cache of a session: per-layer storage plus per-layer layout (bookkeeping), and the number of
/// positions the timeline holds.
final class KVCache {
    let kvHeads: Int
    let headDim: Int
    let layouts: [any KVLayout]
    private(set) var layers: [LayerKVStorage]
    private(set) var length = 0

    init(config: ModelConfig, plan: AttentionPlan, initialLength: Int) {
        kvHeads = config.kvHeadCount
        headDim = config.headDim
        layouts = plan.layers.map { $0.makeLayout() }
        layers = []
        for layout in layouts {
            let cap = max(layout.slotsNeeded(forLength: initialLength), 1)
            let n = kvHeads * cap * headDim
            let k = UnsafeMutablePointer<UInt16>.allocate(capacity: n)
            let v = UnsafeMutablePointer<UInt16>.allocate(capacity: n)
            k.initialize(repeating: 0, count: n)
            v.initialize(repeating: 0, count: n)
            layers.append(LayerKVStorage(keys: k, values: v, capacity: cap))
        }
    }

    deinit {
        for l in layers { l.keys.deallocate(); l.values.deallocate() }
    }

    /// Bytes held by the K/V tensors.
    var bytes: Int { layers.reduce(0) { $0 + 2 * 2 * kvHeads * headDim * $1.capacity } }

    /// Make room for a timeline of `newLength` positions (grows storage, copying what is there).
    func reserve(length newLength: Int) {
        for i in layers.indices {
            let need = layouts[i].slotsNeeded(forLength: newLength)
            let old = layers[i]
            guard need > old.capacity else { continue }
            // Double (amortized growth), but never past what the layout can ever need (a sparse
            // layer's sink + ring), so its bytes stay constant once the ring is full.
            let cap = max(need, layouts[i].slotsNeeded(forLength: old.capacity * 2))
            let n = kvHeads * cap * headDim
            let k = UnsafeMutablePointer<UInt16>.allocate(capacity: n)
            let v = UnsafeMutablePointer<UInt16>.allocate(capacity: n)
            k.initialize(repeating: 0, count: n)
            v.initialize(repeating: 0, count: n)
            for h in 0..<kvHeads {
                (k + h * cap * headDim).update(from: old.keys + h * old.capacity * headDim, count: old.capacity * headDim)
                (v + h * cap * headDim).update(from: old.values + h * old.capacity * headDim, count: old.capacity * headDim)
            }
            old.keys.deallocate(); old.values.deallocate()
            layers[i] = LayerKVStorage(keys: k, values: v, capacity: cap)
        }
    }

    func setLength(_ n: Int) { length = n }

    /// Pointers to the key and value vector of `kvHead` at `slot` of `layer`.
    @inline(__always)
    func key(_ layer: Int, head: Int, slot: Int) -> UnsafeMutablePointer<UInt16> {
        let s = layers[layer]
        return s.keys + (head * s.capacity + slot) * headDim
    }

    @inline(__always)
    func value(_ layer: Int, head: Int, slot: Int) -> UnsafeMutablePointer<UInt16> {
        let s = layers[layer]
        return s.values + (head * s.capacity + slot) * headDim
    }

    /// Store the K and V rows (f32, [n_head_kv * head_dim] each) of position `p` of `layer`.
    func store(layer: Int, position p: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>) {
        let slot = layouts[layer].slot(forPosition: p)
        for h in 0..<kvHeads {
            let kd = key(layer, head: h, slot: slot), vd = value(layer, head: h, slot: slot)
            let ks = k + h * headDim, vs = v + h * headDim
            for i in 0..<headDim {
                kd[i] = loza_f32_to_f16(ks[i])
                vd[i] = loza_f32_to_f16(vs[i])
            }
        }
    }
}
