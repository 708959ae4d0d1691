import Engine
import Tokenizer

/// Long texts for LoZA calibration and evaluation, built deterministically from a seed: the built-in
/// natural corpus (or given files) and passkey documents (keys planted at chosen depths of filler text).
public struct LoZATexts {
    let tokenizer: Tokenizer

    public init(tokenizer: Tokenizer) { self.tokenizer = tokenizer }

    static let labels = ["red door", "blue box", "green gate", "silver chest", "golden ring", "black car",
                         "white boat", "orange tent"]

    /// The label of the `i`-th key of a document: the labels above from a seed-chosen start, and past
    /// their count the same with a number ("red door number 2"), so no two keys of one document share one.
    static func label(_ i: Int, seed: UInt64) -> String {
        let n = labels.count, base = labels[(i + Int(seed % UInt64(n))) % n]
        return i < n ? base : "\(base) number \(i / n + 1)"
    }

    /// `count` tokens of natural text: the given corpus files (or the built-in corpus) from `offset`
    /// characters on, wrapping around.
    public func naturalTokens(count: Int, corpus: [String], offset: Int = 0) -> [Int32] {
        let text = corpus.isEmpty ? LoZACorpus.naturalText : corpus.joined(separator: "\n\n")
        let chars = Array(text.unicodeScalars)
        var out: [Int32] = []
        var start = offset % max(chars.count, 1)
        while out.count < count {
            let end = min(chars.count, start + 4 * (count - out.count) + 64)
            var s = String.UnicodeScalarView(); s.append(contentsOf: chars[start..<end])
            out += tokenizer.encode(String(s), addSpecial: false, parseSpecial: false)
            start = end == chars.count ? 0 : end
        }
        return Array(out.prefix(count))
    }

    func encode(_ s: String) -> [Int32] { tokenizer.encode(s, addSpecial: false, parseSpecial: false) }

    /// A 5-digit key from the generator.
    static func key(_ rng: inout Xoshiro256) -> String { String(10_000 + Int(rng.next() % 90_000)) }

    /// Calibration sequence of `context` tokens: natural text with key sentences planted between the end
    /// of the sink block and `plantBefore` and recalled (key sentence repeated) at positions after
    /// `recallAfter`; the digits of the recalls are the answer tokens. With `plantBefore` = context/2
    /// and `recallAfter` just past it, recall distances span about 0 to `context` tokens.
    public func calibrationSequence(context: Int, corpus: [String], seed: UInt64, plantBefore: Int, recallAfter: Int) -> LoZACalibrator.Sequence {
        var rng = Xoshiro256(seed: seed)
        var tokens = naturalTokens(count: context, corpus: corpus, offset: Int(rng.next() % 100_000))
        var answers = Set<Int>()
        let n = 6
        var planted: [(String, String)] = []
        for i in 0..<n {
            let label = Self.labels[(Int(seed) + i) % Self.labels.count], k = Self.key(&rng)
            planted.append((label, k))
            let sentence = encode(" The pass key for the \(label) is \(k). Remember it. ")
            let at = 160 + (plantBefore - 224) * i / n
            tokens.replaceSubrange(at..<at + sentence.count, with: sentence)
        }
        let span = context - recallAfter - 64
        for i in 0..<n {
            let (label, k) = planted[(i * 5 + 3) % n]
            let head = encode(" Recall: the pass key for the \(label) is")
            let digits = encode(" \(k).")
            let at = recallAfter + span * i / n
            tokens.replaceSubrange(at..<at + head.count + digits.count, with: head + digits)
            for j in 0..<digits.count - 1 { answers.insert(at + head.count + j) }
        }
        return LoZACalibrator.Sequence(tokens: Array(tokens.prefix(context)), answerTokens: answers)
    }

    public struct PasskeyDocument {
        public var tokens: [Int32]
        public var questions: [(label: String, key: String, depth: Double, prompt: [Int32])]
        /// Where each question's key sentence starts in `tokens`, and its tokens (question order).
        public var sentences: [(start: Int, tokens: [Int32])] = []
    }

    /// Calibration sequence in the passkey task's shape: a filler document of about `context` tokens with
    /// 8 keys (one per depth), then every question asked and answered in turn; the answer digits are the
    /// answer tokens, so the passkey NLL measures multi-key recall across the whole document.
    public func passkeyCalibrationSequence(context: Int, seed: UInt64) -> LoZACalibrator.Sequence {
        let depths = [0.12, 0.25, 0.37, 0.5, 0.62, 0.75, 0.87, 0.97]
        let doc = passkeyDocument(context: context - 8 * 36, depths: depths, seed: seed, filler: LoZACorpus.calibrationFiller)
        var tokens = doc.tokens
        var answers = Set<Int>()
        var rng = Xoshiro256(seed: seed ^ 0x5EED)
        var order = Array(doc.questions.indices)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        var sources: [Int: Int] = [:]
        for i in order {
            let q = doc.questions[i]
            let digits = encode(" \(q.key).")
            tokens += q.prompt
            let answer = Array(digits.dropLast())
            let from = doc.sentences.indices.contains(i) ? Self.locate(answer, in: doc.sentences[i]) : nil
            for j in 0..<answer.count {
                answers.insert(tokens.count + j)
                if let from { sources[tokens.count + j] = from + j }
            }
            tokens += digits
        }
        return LoZACalibrator.Sequence(tokens: tokens, answerTokens: answers, answerSources: sources)
    }

    /// Where the answer's tokens stand in the key sentence (the copy source of each answer token): the
    /// first place the sentence holds them all; else the answer without its first token (a leading
    /// space the sentence tokenized with the word before), shifted back by one.
    static func locate(_ answer: [Int32], in sentence: (start: Int, tokens: [Int32])) -> Int? {
        func find(_ a: ArraySlice<Int32>) -> Int? {
            guard !a.isEmpty, a.count <= sentence.tokens.count else { return nil }
            for i in 0...(sentence.tokens.count - a.count) where sentence.tokens[i..<i + a.count].elementsEqual(a) { return i }
            return nil
        }
        if let i = find(answer[...]) { return sentence.start + i }
        if answer.count > 1, let i = find(answer.dropFirst()) { return sentence.start + i - 1 }
        return nil
    }

    /// A passkey document of about `context` tokens with one key per depth, in `format` (the classic
    /// shape, with `filler` as the repeated text, by default: the documents these figures always used).
    public func passkeyDocument(context: Int, depths: [Double], seed: UInt64, format: PasskeyFormat = .calibration,
                                filler: String = LoZACorpus.passkeyFiller) -> PasskeyDocument {
        var rng = Xoshiro256(seed: seed)
        var keys: [(String, String, Double, [Int32])] = []
        for (i, d) in depths.enumerated() {
            let label = Self.label(i, seed: seed)
            let k = format.makeKey(&rng)
            keys.append((label, k, d, encode(format.keySentence(label: label, key: k))))
        }
        let intro = encode(format.intro(classic: LoZACorpus.passkeyIntro, labels: keys.map(\.0)))
        let questionRoom = 40
        let body = max(0, context - intro.count - questionRoom - keys.reduce(0) { $0 + $1.3.count })
        var tokens = intro
        var starts = [Int](repeating: 0, count: keys.count)
        let byDepth = keys.indices.sorted { keys[$0].2 < keys[$1].2 }
        if format.filler == .classic {
            // Whole filler units, as the classic document has always been built.
            let fill = encode(filler)
            var placed = 0
            for k in byDepth {
                let until = Int(Double(body) * keys[k].2)
                while placed + fill.count <= until { tokens += fill; placed += fill.count }
                starts[k] = tokens.count
                tokens += keys[k].3
            }
            while placed + fill.count <= body { tokens += fill; placed += fill.count }
        } else {
            var fillRNG = Xoshiro256(seed: seed ^ 0xF1_11E4)
            let stream = fillerTokens(format.filler, count: body, rng: &fillRNG)
            var placed = 0
            for k in byDepth {
                let until = max(placed, Int(Double(body) * keys[k].2))
                tokens += stream[placed..<until]
                placed = until
                starts[k] = tokens.count
                tokens += keys[k].3
            }
            tokens += stream[placed..<body]
        }
        let qs = keys.map { (label, k, d, _) in
            (label: label, key: k, depth: d, prompt: encode("\nWhat is the pass key for the \(label)? The pass key for the \(label) is"))
        }
        return PasskeyDocument(tokens: tokens, questions: qs,
                               sentences: keys.indices.map { (start: starts[$0], tokens: keys[$0].3) })
    }

    /// At least `count` tokens of filler of a kind other than the classic one: prose from the built-in
    /// corpus, or generated Python source or records (from `rng`, so a seed gives the same text).
    func fillerTokens(_ kind: PasskeyFormat.Filler, count: Int, rng: inout Xoshiro256) -> [Int32] {
        if kind == .prose || kind == .classic {
            return naturalTokens(count: count, corpus: [], offset: Int(rng.next() % 100_000))
        }
        var out: [Int32] = []
        func pick(_ list: [String]) -> String { list[Int(rng.next() % UInt64(list.count))] }
        func number(_ below: Int) -> Int { Int(rng.next() % UInt64(below)) }
        while out.count < count {
            var piece = ""
            switch kind {
            case .code:
                let verb = pick(["scale", "merge", "shift", "clamp", "blend", "count", "parse", "split"])
                let noun = pick(["order", "sample", "ledger", "signal", "buffer", "record", "window", "vector"])
                let k = 2 + number(97), m = number(1000), limit = 1000 + number(9000)
                piece = """
                    def \(verb)_\(noun)_\(number(100))(value, factor=\(k)):
                        \"\"\"\(verb.capitalized) the \(noun) by \(k) and keep it under \(limit).\"\"\"
                        result = value * factor + \(m)
                        if result > \(limit):
                            return result - \(m)
                        return result


                    """
            case .records:
                for _ in 0..<8 {
                    let name = pick(["Ada", "Bruno", "Chloe", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas"])
                        + " " + pick(["Moss", "Keller", "Okafor", "Lindqvist", "Duarte", "Sato", "Novak", "Brennan"])
                    let city = pick(["Lyon", "Porto", "Osaka", "Quito", "Tallinn", "Perth", "Accra", "Bergen"])
                    piece += "id: \(1000 + number(9000)) | name: \(name) | city: \(city) | balance: \(number(10000)).\(10 + number(90))\n"
                }
            case .prose, .classic:
                break
            }
            out += encode(piece)
        }
        return out
    }
}
