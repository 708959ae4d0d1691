#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Element-wise pieces of the forward pass (norm, RoPE, SwiGLU), scalar over unsafe pointers; the
// heavy work (matmuls, attention dots) is in CKernels and OpenBLAS.

/// out = x / sqrt(mean(x^2) + eps) * w, with the sum of squares in double (as ggml).
@inline(__always)
func rmsNorm(_ x: UnsafePointer<Float>, weight w: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
             count n: Int, eps: Float) {
    var sum: Double = 0
    for i in 0..<n { sum += Double(x[i] * x[i]) }
    let mean = Float(sum / Double(n))
    let scale = 1 / sqrtf(mean + eps)
    for i in 0..<n { out[i] = (x[i] * scale) * w[i] }
}

/// RMSNorm of each of `heads` consecutive head vectors of `headDim`, in place, with one shared weight
/// (qwen3's Q and K norms).
@inline(__always)
func headNorm(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, weight: UnsafePointer<Float>, eps: Float) {
    for h in 0..<heads {
        let v = x + h * headDim
        rmsNorm(v, weight: weight, out: v, count: headDim, eps: eps)
    }
}

/// The RoPE angles of one position: cos/sin of pair i for i < n_rot/2 (theta_i = p * base^(-2i/n_rot),
/// computed by repeated multiplication in f32 as ggml does, divided by optional frequency factors).
@inline(__always)
func ropeAngles(position p: Int, config c: ModelConfig, freqFactors: UnsafePointer<Float>?,
                cos cosOut: UnsafeMutablePointer<Float>, sin sinOut: UnsafeMutablePointer<Float>) {
    let half = c.ropeDimensions / 2
    let thetaScale = powf(c.ropeBase, -2 / Float(c.ropeDimensions))
    var theta = Float(p)
    for i in 0..<half {
        let ff: Float = freqFactors.map { $0[i] } ?? 1
        let t = c.ropeFreqScale * (theta / ff)
        cosOut[i] = cosf(t)
        sinOut[i] = sinf(t)
        theta *= thetaScale
    }
}

/// Rotate `heads` consecutive head vectors of `headDim` in place with the angles of one position.
@inline(__always)
func applyRope(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, ropeDims: Int, style: RopeStyle,
               cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
    let half = ropeDims / 2
    for h in 0..<heads {
        let v = x + h * headDim
        switch style {
        case .adjacentPairs:
            for i in 0..<half {
                let x0 = v[2 * i], x1 = v[2 * i + 1]
                v[2 * i] = x0 * cos[i] - x1 * sin[i]
                v[2 * i + 1] = x0 * sin[i] + x1 * cos[i]
            }
        case .halfSplit:
            for i in 0..<half {
                let x0 = v[i], x1 = v[i + half]
                v[i] = x0 * cos[i] - x1 * sin[i]
                v[i + half] = x0 * sin[i] + x1 * cos[i]
            }
        }
    }
}

/// gate = silu(gate) * up, element-wise over `n`.
@inline(__always)
func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count n: Int) {
    for i in 0..<n {
        let g = gate[i]
        gate[i] = g / (1 + expf(-g)) * up[i]
    }
}

@inline(__always)
func addBias(_ y: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>?, count n: Int) {
    guard let b else { return }
    for i in 0..<n { y[i] += b[i] }
}

@inline(__always)
func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int) {
    for i in 0..<n { y[i] += x[i] }
}
