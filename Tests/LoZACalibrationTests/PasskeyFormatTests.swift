import Engine
@testable import LoZACalibration
import TestSupport
import Testing
import Tokenizer

/// Passkey document shapes (`loza eval passkey --format`): the list syntax and its errors, the answer
/// check of each key shape, and documents of every shape: about the asked length, each key planted once
/// in its shape, the labels announced before the document only when asked, the same document for the
/// same seed, and the classic shape exactly the document the recorded figures were computed on.
struct PasskeyFormatTests {
    @Test func listsParseWithSetsInOrderWithoutRepeats() throws {
        let one = try PasskeyFormat.parseList("prose-words-before").get()
        #expect(one == [PasskeyFormat(.prose, .words, .before)])
        let sets = try PasskeyFormat.parseList("calibration, heldout,classic-digits-after").get()
        #expect(sets == [.calibration] + PasskeyFormat.heldOut)
        #expect(try PasskeyFormat.parseList("all").get().count == 4 * 3 * 2)
        #expect(!PasskeyFormat.heldOut.contains(.calibration))
        for bad in ["prose-words", "poetry-digits-after", "code-hex-after", "code-uuid-during", ""] {
            guard case .failure(let e) = PasskeyFormat.parseList(bad) else {
                Issue.record("'\(bad)' parsed")
                continue
            }
            #expect(e.description.contains("FILLER-KEY-QUESTION"), "\(e)")
        }
    }

    @Test func answersAreCheckedByKeyShape() {
        let digits = PasskeyFormat(.classic, .digits, .after)
        #expect(digits.answer(" 45994. The", gives: "45994"))
        #expect(!digits.answer(" 459940.", gives: "45994"))
        #expect(!digits.answer(" the pass key", gives: "45994"))
        let words = PasskeyFormat(.prose, .words, .before)
        #expect(words.answer(" Sandy lantern. Remember it", gives: "sandy lantern"))
        #expect(words.answer(" sandy, lantern", gives: "sandy lantern"))
        #expect(!words.answer(" the pass key for", gives: "sandy lantern"))
        let uuid = PasskeyFormat(.code, .uuid, .after)
        #expect(uuid.answer(" \"17abfebd-9cda\"  # the", gives: "17abfebd-9cda"))
        #expect(!uuid.answer(" 17abfebd-9cdab", gives: "17abfebd-9cda"))
        #expect(!uuid.answer(" 1b22b2b-1b22b", gives: "17abfebd-9cda"))
    }

    static let depths = [0.1, 0.3, 0.5, 0.7, 0.9]

    static func smolTexts() throws -> (Tokenizer, LoZATexts) {
        let model = try Model(path: RealModels.require(RealModels.smol))
        let tok = try Tokenizer(gguf: model.file)
        return (tok, LoZATexts(tokenizer: tok))
    }

    /// The calibration sequence's answers point at the key digits they copy (the copy sources per-head calibration scores heads by).
    @Test(.requiresModel(RealModels.smol)) func answersNameTheDigitTheyCopy() throws {
        let (_, texts) = try Self.smolTexts()
        let seq = texts.passkeyCalibrationSequence(context: 2048, seed: 3)
        #expect(!seq.answerTokens.isEmpty)
        #expect(seq.answerSources.count == seq.answerTokens.count)
        for (t, src) in seq.answerSources {
            #expect(src < t - 100)
            #expect(seq.tokens[src] == seq.tokens[t], "answer \(t) copies \(src)")
        }
    }

    @Test(.requiresModel(RealModels.smol)) func documentsOfEveryShape() throws {
        let (tok, texts) = try Self.smolTexts()
        for format in try PasskeyFormat.parseList("all").get() {
            let doc = texts.passkeyDocument(context: 2048, depths: Self.depths, seed: 11, format: format)
            #expect(doc.tokens.count > 1700 && doc.tokens.count <= 2048, "\(format): \(doc.tokens.count) tokens")
            #expect(doc.questions.count == Self.depths.count)
            // Each key sentence is where the document says it is.
            #expect(doc.sentences.count == doc.questions.count)
            for (q, s) in zip(doc.questions, doc.sentences) {
                #expect(Array(doc.tokens[s.start..<s.start + s.tokens.count]) == s.tokens)
                #expect(tok.decode(s.tokens).contains(q.key), "\(format): sentence of \(q.label)")
            }
            let text = tok.decode(doc.tokens)
            let head = String(text.prefix(400))
            for q in doc.questions {
                #expect(text.components(separatedBy: "pass key for the \(q.label) is \(q.key)").count == 2,
                        "\(format): key of \(q.label) not planted once")
                #expect(format.answer(" \(q.key).", gives: q.key), "\(format): key \(q.key) fails its own check")
                #expect(head.contains("the \(q.label)") == (format.question == .before), "\(format): labels announced?")
                switch format.key {
                case .digits: #expect(q.key.count == 5 && q.key.allSatisfy(\.isNumber))
                case .words: #expect(q.key.split(separator: " ").count == 2)
                case .uuid: #expect(q.key.count == 13 && q.key.allSatisfy { $0.isHexDigit || $0 == "-" })
                }
            }
            let again = texts.passkeyDocument(context: 2048, depths: Self.depths, seed: 11, format: format)
            #expect(again.tokens == doc.tokens)
            let other = texts.passkeyDocument(context: 2048, depths: Self.depths, seed: 12, format: format)
            #expect(other.tokens != doc.tokens)
        }
    }

    /// A document asks for each key by its own label, however many depths it has; the first eight are the
    /// labels every earlier evaluation used.
    @Test func everyKeyOfADocumentHasItsOwnLabel() {
        for seed: UInt64 in [0, 5, 11, UInt64.max] {
            let labels = (0..<20).map { LoZATexts.label($0, seed: seed) }
            #expect(Set(labels).count == 20)
            let n = LoZATexts.labels.count
            #expect(Array(labels.prefix(n)) == (0..<n).map { LoZATexts.labels[(Int(seed % UInt64(n)) + $0) % n] })
            #expect(labels[n] == labels[0] + " number 2")
        }
    }

    /// The classic shape, built here as the evaluation always built it: the intro, whole filler units up
    /// to each depth, the key sentence, filler to the end.
    @Test(.requiresModel(RealModels.smol)) func theClassicShapeIsTheRecordedDocument() throws {
        let (tok, texts) = try Self.smolTexts()
        let doc = texts.passkeyDocument(context: 3000, depths: Self.depths, seed: 7)
        func encode(_ s: String) -> [Int32] { tok.encode(s, addSpecial: false, parseSpecial: false) }
        let intro = encode(LoZACorpus.passkeyIntro), fill = encode(LoZACorpus.passkeyFiller)
        let sentences = doc.questions.map {
            encode(" The pass key for the \($0.label) is \($0.key). Remember it. \($0.key) is the pass key for the \($0.label).")
        }
        let body = 3000 - intro.count - 40 - sentences.reduce(0) { $0 + $1.count }
        var tokens = intro, placed = 0
        for (i, d) in Self.depths.enumerated() {
            while placed + fill.count <= Int(Double(body) * d) { tokens += fill; placed += fill.count }
            tokens += sentences[i]
        }
        while placed + fill.count <= body { tokens += fill; placed += fill.count }
        #expect(doc.tokens == tokens)
        #expect(texts.passkeyDocument(context: 3000, depths: Self.depths, seed: 7, format: .calibration).tokens == tokens)
    }
}
