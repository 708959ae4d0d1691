import Engine
import Foundation
import TestSupport
import Testing

/// Greedy continuations and top logits against llama.cpp on the same GGUF files.
///
/// The two engines round differently: both quantize activations to 8 bits in prefill (loza's quantized
/// GEMM; on a CPU without AVX-512 VNNI loza prefills through f32 SGEMM instead), but with different
/// block formats, and llama.cpp rounds Q and the attention weights to f16. The fixture also holds
/// a float64 evaluation of the same weights, which shows how far llama.cpp itself sits from exact
/// arithmetic (`llamacpp_f64_deviation`: up to ~0.3 on SmolLM2's Q4_1). So:
/// - loza's prefill logits must be close to the float64 ones: this catches any systematic error (RoPE
///   pairing, bias, norm, attention) at once. With 8-bit activations (as llama.cpp) prefill measured
///   up to 0.17 on qwen2.5 and 0.87 on SmolLM2's Q4_1, logits around 30 (0.12 with f32 SGEMM), so the
///   bound is llama.cpp's own deviation from float64 (`llamacpp_f64_deviation`: 0.55 and 0.91) plus 10%,
///   at least `f64Tolerance` (`prefillTolerance`); the one-token prompt goes through the decode path (also 8-bit activations)
///   and gets `f64DecodeTolerance` (measured up to 0.6);
/// - against llama.cpp, logits may differ by llama.cpp's own deviation plus loza's (`llamaTolerance`);
/// - a greedy continuation must match llama.cpp exactly up to the first step where llama.cpp's two
///   best logits are closer than twice its deviation from exact arithmetic (a near-tie that rounding
///   can flip), and may part only at a step whose top-2 gap in llama.cpp is below that deviation (a
///   tie llama.cpp's own rounding cannot decide). Where they part is printed for every prompt.
@Suite(.serialized, .requiresModel(RealModels.smol, RealModels.qwen))
struct ReferenceFixtureTests {
    /// Smallest bound on |loza prefill - f64| on the top-10 logits (see above).
    static let f64Tolerance: Float = 0.15
    static let f64DecodeTolerance: Float = 0.75

    /// Prefill's bound: llama.cpp's own deviation plus 10%. The 8-bit path's worst position is rounding
    /// luck and the prefill attention's SGEMM is OpenBLAS's kernel for the CPU at hand: SmolLM2 measured
    /// 0.87 on a Zen 4 host and 0.96 on an AVX-512 FP16 host against llama.cpp's 0.91; f32 SGEMM 0.11.
    static func prefillTolerance(_ f: EngineFixture) -> Float { max(f64Tolerance, 1.1 * f.llamacpp_f64_deviation) }
    static func nearTie(_ f: EngineFixture) -> Float { 2 * f.llamacpp_f64_deviation }
    static func llamaTolerance(_ f: EngineFixture) -> Float { f.llamacpp_f64_deviation + 0.25 }

    static let aliases = ["smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct"]

    @Test(arguments: aliases)
    func greedyContinuationsMatch(alias: String) throws {
        let fixture = try EngineFixture.load(alias)
        let model = try TestModels.model(alias)
        let session = Session(model: model, threads: 2)
        var fullMatches = 0
        let nearTie = Self.nearTie(fixture)
        for c in fixture.cases {
            let got = try greedy(session, prompt: c.prompt_tokens, count: c.continuation.count)
            let firstDiff = zip(got, c.continuation).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            let firstTie = c.top2_gaps.firstIndex { $0 < nearTie } ?? c.continuation.count
            if let d = firstDiff {
                print("[\(alias)] \(c.name): diverges at step \(d) (llama.cpp top-2 gap there \(c.top2_gaps[d]), first gap < \(nearTie) at step \(firstTie))")
                #expect(d >= firstTie, "\(alias) \(c.name): continuation differs at step \(d) before any near-tie (gap \(c.top2_gaps[d]))\n got \(got)\nwant \(c.continuation)")
                #expect(c.top2_gaps[d] < fixture.llamacpp_f64_deviation,
                        "\(alias) \(c.name): continuation differs at step \(d), where llama.cpp's top-2 gap \(c.top2_gaps[d]) is not below its own deviation from f64 (\(fixture.llamacpp_f64_deviation))")
            } else {
                fullMatches += 1
            }
        }
        print("[\(alias)] \(fullMatches)/\(fixture.cases.count) continuations match all \(fixture.cases[0].continuation.count) tokens")
        // SmolLM2 (Q4_1) is noisy in llama.cpp itself (see llamacpp_f64_deviation): measured 3/8 full
        // matches with 8-bit prefill activations (4/8 with f32 SGEMM), every divergence at a llama.cpp
        // top-2 gap of 0.15 or less; qwen2.5 6/8. At least one prompt must match all 32 tokens.
        #expect(fullMatches >= 1, "\(alias): none of \(fixture.cases.count) continuations match fully")
    }

    @Test(arguments: aliases)
    func topLogitsMatch(alias: String) throws {
        let fixture = try EngineFixture.load(alias)
        let model = try TestModels.model(alias)
        let session = Session(model: model, threads: 2)
        let tolerance = Self.llamaTolerance(fixture)
        var worst: Float = 0, worstF64: Float = 0, worstF64Decode: Float = 0
        for c in fixture.cases {
            // Prompt positions: logits of the prefix ending at that position (prefill path).
            for top in c.prompt_top_logits {
                let p = try #require(top.position)
                session.reset()
                try session.append(Array(c.prompt_tokens[...p]))
                worst = max(worst, compare(session, top.ids, top.logits, tolerance, "\(c.name) position \(p) vs llama.cpp"))
                let f64 = try #require(top.f64)
                let tol = p == 0 ? Self.f64DecodeTolerance : Self.prefillTolerance(fixture)
                let d = compare(session, top.ids, f64, tol, "\(c.name) position \(p) vs f64")
                if p == 0 { worstF64Decode = max(worstF64Decode, d) } else { worstF64 = max(worstF64, d) }
            }
            // Generated steps: decode path.
            session.reset()
            try session.append(c.prompt_tokens)
            var step = 0
            for top in c.step_top_logits {
                let s = try #require(top.step)
                while step < s {
                    try session.decode(c.continuation[step])
                    step += 1
                }
                worst = max(worst, compare(session, top.ids, top.logits, tolerance, "\(c.name) step \(s) vs llama.cpp"))
            }
        }
        print("[\(alias)] largest top-10 logit difference: from llama.cpp \(worst) (llama.cpp from f64: \(fixture.llamacpp_f64_deviation)), from f64 \(worstF64) (prefill) / \(worstF64Decode) (one-token decode)")
    }

    private func compare(_ session: Session, _ ids: [Int32], _ want: [Float], _ tolerance: Float, _ label: String) -> Float {
        let logits = session.logits
        var worst: Float = 0
        for (id, w) in zip(ids, want) {
            let diff = abs(logits[Int(id)] - w)
            worst = max(worst, diff)
            #expect(diff <= tolerance, "\(label): logit of token \(id) is \(logits[Int(id)]), want \(w) ± \(tolerance)")
        }
        return worst
    }
}
