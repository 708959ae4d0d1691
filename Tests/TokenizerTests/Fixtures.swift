import Foundation
import Testing
@testable import Tokenizer

/// A reference fixture written by scripts/make-tokenizer-fixtures.py (llama.cpp through
/// llama-cpp-python).
struct TokenizerFixture: Decodable, Sendable {
    struct Case: Decodable, Sendable {
        let name: String
        let text: String
        let ids: [Int32]
        let ids_no_special: [Int32]?
        let detokenized_hex: String?
    }

    let model: String
    let pre: String?
    let vocab_size: Int
    let bos: Int32?
    let eos: Int32?
    let eot: Int32?
    let add_bos: Bool
    let add_eos: Bool
    let eog: [Int32]
    let cases: [Case]
    let pieces: [[FlexibleValue]]?
    let bulk: Bulk?

    /// count and FNV-1a-style hash of the ids of `PerformanceTests.pseudoWords(seed:size:)`
    struct Bulk: Decodable, Sendable {
        let seed: UInt64
        let bytes: Int
        let count: Int
        let fnv64: String
    }

    /// `[id, "hex"]` pairs
    var pieceTable: [(Int32, [UInt8])] {
        (pieces ?? []).compactMap { pair in
            guard pair.count == 2, case .int(let id) = pair[0], case .string(let hex) = pair[1] else { return nil }
            return (Int32(id), hexBytes(hex))
        }
    }

    static func load(_ name: String) throws -> TokenizerFixture {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "json"),
                               "fixture Fixtures/\(name).json is missing")
        return try JSONDecoder().decode(TokenizerFixture.self, from: Data(contentsOf: url))
    }
}

enum FlexibleValue: Decodable, Sendable {
    case int(Int)
    case string(String)

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int.self) { self = .int(i) } else { self = .string(try c.decode(String.self)) }
    }
}

func hexBytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = hex.utf8.makeIterator()
    func nib(_ c: UInt8) -> UInt8 { c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10 }
    while let a = it.next(), let b = it.next() { out.append(nib(a) << 4 | nib(b)) }
    return out
}
