@testable import Tokenizer

/// A small hand-written vocabulary: the 256 byte tokens (ids 0...255, in byte order), then the
/// tokens below, so that tests need no model file.
enum TinyVocab {
    static let extra: [(text: String, type: Int)] = [
        ("aa", 1), ("ab", 1), ("bc", 1), ("abc", 1), ("Ġa", 1), ("Ġab", 1), ("ĠĠ", 1),
        ("<|s|>", 3), ("<|e|>", 3), ("<|x", 3), ("x|>y", 3), ("<tool>", 4), ("[unused]", 5),
    ]
    static let merges = ["a a", "b c", "a b", "ab c", "Ġ a", "Ġa b", "Ġ Ġ"]

    static var tokens: [String] { (0..<256).map { ByteLevel.encode([UInt8($0)]) } + extra.map(\.text) }
    static var types: [Int] { [Int](repeating: 1, count: 256) + extra.map(\.type) }

    static func id(_ text: String) -> Int32 {
        Int32(tokens.firstIndex(of: text)!)
    }

    static func make(pre: String = "gpt-2", addBOS: Bool = false, addEOS: Bool = false) throws -> Tokenizer {
        try Tokenizer(tokens: tokens, merges: merges, types: types, pre: pre, bos: id("<|s|>"), eos: id("<|e|>"),
                      eot: nil, addBOS: addBOS, addEOS: addEOS)
    }
}
