/// The pre-tokenizer that `tokenizer.ggml.pre` names: it splits text into pieces ("words") before
/// BPE runs inside each piece, so that merges never cross piece boundaries. Each one reproduces
/// the regular expressions llama.cpp uses for that name, applied in sequence (every expression
/// splits each piece left by the previous one into matches and the gaps between them), but as a
/// hand-written scanner over Unicode scalars instead of a regex engine.
public enum PreTokenizer: String, Sendable, CaseIterable {
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// `[\p{P}\$\+<=>\^~\|]+`, then the GPT-2 expression, then `\p{N}+`, then `[0-9][0-9][0-9]`
    /// (llama.cpp's fallback for `default` or a missing `tokenizer.ggml.pre`)
    case `default`
    /// `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    case qwen2
    /// the Qwen2 expression with `\p{N}{1,3}` in place of `\p{N}`; whole pieces that are already a
    /// token skip merging (llama.cpp's `ignore_merges`)
    case llama3
    /// `\p{N}`, then the GPT-2 expression (SmolLM, StarCoder and relatives)
    case smollm

    /// The pre-tokenizer for a `tokenizer.ggml.pre` value, or nil when it is not supported.
    /// An empty name means the key is missing, which llama.cpp treats as `default`.
    public init?(ggufName name: String) {
        switch name {
        case "", "default":
            self = .default
        case "gpt-2", "gpt2", "phi-2", "mpt", "olmo", "jais":
            self = .gpt2
        case "qwen2", "deepseek-r1-qwen", "megrez", "stablelm2":
            self = .qwen2
        case "llama3", "llama-v3", "llama-bpe", "falcon3":
            self = .llama3
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b":
            self = .smollm
        default:
            return nil
        }
    }

    static let supportedNames = "default, gpt-2, phi-2, mpt, olmo, jais, qwen2, deepseek-r1-qwen, megrez, stablelm2, "
        + "llama3, llama-v3, llama-bpe, falcon3, smollm, starcoder, refact, command-r, codeshell, exaone, minerva-7b"

    /// Splits `text[lo..<hi]` and appends the end index (in scalars) of every piece to `out`.
    func split(_ text: ScalarText, _ lo: Int, _ hi: Int, into out: inout Pieces, scratch: inout Pieces) {
        switch self {
        case .gpt2:
            Scanners.gpt2(text, lo, hi, &out)
        case .qwen2:
            Scanners.qwen2(text, lo, hi, maxDigits: 1, &out)
        case .llama3:
            Scanners.qwen2(text, lo, hi, maxDigits: 3, &out)
        case .smollm:
            Scanners.smollm(text, lo, hi, &out)
        case .default:
            Scanners.fallback(text, lo, hi, &out, scratch: &scratch)
        }
    }
}

/// Piece end positions, in a caller-owned buffer of `count(scalars) + 1` entries.
struct Pieces {
    let ends: UnsafeMutablePointer<Int>
    var count = 0

    init(capacity: Int) {
        ends = .allocate(capacity: capacity + 1)
    }

    func deallocate() { ends.deallocate() }

    @inline(__always)
    mutating func add(_ end: Int) {
        ends[count] = end
        count += 1
    }
}

enum Scanners {
    static let L = CharClass.letter
    static let N = CharClass.number
    static let S = CharClass.space
    static let P = CharClass.punct

    @inline(__always) static func isNewline(_ c: UInt32) -> Bool { c == 0x0A || c == 0x0D }

    @inline(__always) static func asciiLower(_ c: UInt32) -> UInt32 {
        (c >= 0x41 && c <= 0x5A) ? c + 0x20 : c
    }

    /// Length of a contraction (`'s 't 're 've 'm 'll 'd`) starting at `i` (an apostrophe), or 0.
    @inline(__always)
    static func contraction(_ cp: UnsafeMutablePointer<UInt32>, _ i: Int, _ hi: Int, caseless: Bool) -> Int {
        guard i + 1 < hi else { return 0 }
        let c1 = caseless ? asciiLower(cp[i + 1]) : cp[i + 1]
        if c1 == 0x73 || c1 == 0x74 || c1 == 0x6D || c1 == 0x64 { return 2 }  // s t m d
        guard i + 2 < hi else { return 0 }
        let c2 = caseless ? asciiLower(cp[i + 2]) : cp[i + 2]
        if (c1 == 0x72 && c2 == 0x65) || (c1 == 0x76 && c2 == 0x65) || (c1 == 0x6C && c2 == 0x6C) { return 3 }  // re ve ll
        return 0
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    static func gpt2(_ t: ScalarText, _ lo: Int, _ hi: Int, _ out: inout Pieces) {
        let cp = t.scalars, cl = t.classes
        var i = lo
        while i < hi {
            let c = cp[i]
            if c == 0x27 {
                let n = contraction(cp, i, hi, caseless: false)
                if n > 0 { i += n; out.add(i); continue }
            }
            // ' ?' then one class run: letters, numbers, or neither-space-letter-nor-number
            var j = c == 0x20 ? i + 1 : i
            if j < hi {
                let k = cl[j]
                let run: UInt8 = k & L != 0 ? L : (k & N != 0 ? N : (k & (S | L | N) == 0 ? 0 : 0xFF))
                if run != 0xFF {
                    j += 1
                    if run == 0 {
                        while j < hi && cl[j] & (S | L | N) == 0 { j += 1 }
                    } else {
                        while j < hi && cl[j] & run != 0 { j += 1 }
                    }
                    i = j
                    out.add(i)
                    continue
                }
            }
            // \s+(?!\S) leaves the last space of a run for the next piece; \s+ takes a final run
            var w = i
            while w < hi && cl[w] & S != 0 { w += 1 }
            if w - i > 1 && w < hi {
                i = w - 1
            } else if w > i {
                i = w
            } else {
                i += 1
            }
            out.add(i)
        }
    }

    /// Qwen2 (maxDigits 1) and Llama 3 (maxDigits 3):
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    static func qwen2(_ t: ScalarText, _ lo: Int, _ hi: Int, maxDigits: Int, _ out: inout Pieces) {
        let cp = t.scalars, cl = t.classes
        var i = lo
        while i < hi {
            let c = cp[i]
            if c == 0x27 {
                let n = contraction(cp, i, hi, caseless: true)
                if n > 0 { i += n; out.add(i); continue }
            }
            let k = cl[i]
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if !isNewline(c) && k & N == 0 && (k & L != 0 || (i + 1 < hi && cl[i + 1] & L != 0)) {
                var j = i + 1
                while j < hi && cl[j] & L != 0 { j += 1 }
                i = j
                out.add(i)
                continue
            }
            // \p{N}{1,maxDigits}
            if k & N != 0 {
                var j = i + 1
                while j < hi && j - i < maxDigits && cl[j] & N != 0 { j += 1 }
                i = j
                out.add(i)
                continue
            }
            // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
            let j0 = c == 0x20 ? i + 1 : i
            if j0 < hi && cl[j0] & (S | L | N) == 0 {
                var j = j0 + 1
                while j < hi && cl[j] & (S | L | N) == 0 { j += 1 }
                while j < hi && isNewline(cp[j]) { j += 1 }
                i = j
                out.add(i)
                continue
            }
            // \s*[\r\n]+ takes a space run up to its last newline; then \s+(?!\S), then \s+
            var w = i
            var afterNewline = -1
            while w < hi && cl[w] & S != 0 {
                if isNewline(cp[w]) { afterNewline = w + 1 }
                w += 1
            }
            if afterNewline > 0 {
                i = afterNewline
            } else if w - i > 1 && w < hi {
                i = w - 1
            } else if w > i {
                i = w
            } else {
                i += 1
            }
            out.add(i)
        }
    }

    /// `\p{N}` (every number character alone), then the GPT-2 expression on the text between.
    static func smollm(_ t: ScalarText, _ lo: Int, _ hi: Int, _ out: inout Pieces) {
        let cl = t.classes
        var i = lo
        while i < hi {
            if cl[i] & N != 0 {
                i += 1
                out.add(i)
                continue
            }
            var j = i + 1
            while j < hi && cl[j] & N == 0 { j += 1 }
            gpt2(t, i, j, &out)
            i = j
        }
    }

    @inline(__always) static func isFallbackPunct(_ c: UInt32, _ k: UInt8) -> Bool {
        // [\p{P}\$\+<=>\^~\|]
        k & P != 0 || c == 0x24 || c == 0x2B || c == 0x3C || c == 0x3D || c == 0x3E || c == 0x5E || c == 0x7E
            || c == 0x7C
    }

    @inline(__always) static func isASCIIDigit(_ c: UInt32) -> Bool { c >= 0x30 && c <= 0x39 }

    /// llama.cpp's `default`: `[\p{P}\$\+<=>\^~\|]+`, GPT-2, `\p{N}+`, `[0-9][0-9][0-9]`.
    static func fallback(_ t: ScalarText, _ lo: Int, _ hi: Int, _ out: inout Pieces, scratch: inout Pieces) {
        let cp = t.scalars, cl = t.classes
        // 1 + 2: punctuation runs and the gaps between them, each through GPT-2
        scratch.count = 0
        var i = lo
        while i < hi {
            let inRun = isFallbackPunct(cp[i], cl[i])
            var j = i + 1
            while j < hi && isFallbackPunct(cp[j], cl[j]) == inRun { j += 1 }
            gpt2(t, i, j, &scratch)
            i = j
        }
        // 3 + 4: number runs and the gaps between them, then groups of three ASCII digits
        var start = lo
        for p in 0..<scratch.count {
            let end = scratch.ends[p]
            var a = start
            while a < end {
                let isNum = cl[a] & N != 0
                var b = a + 1
                while b < end && (cl[b] & N != 0) == isNum { b += 1 }
                var s = a
                var k = a
                while k + 3 <= b {
                    if isASCIIDigit(cp[k]) && isASCIIDigit(cp[k + 1]) && isASCIIDigit(cp[k + 2]) {
                        if k > s { out.add(k) }
                        k += 3
                        out.add(k)
                        s = k
                    } else {
                        k += 1
                    }
                }
                if b > s { out.add(b) }
                a = b
            }
            start = end
        }
    }
}
