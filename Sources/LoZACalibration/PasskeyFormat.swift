import Engine
import Foundation

/// The shape of a passkey document (`loza eval passkey --format`): what fills it, what its keys look like,
/// and whether the labels asked for are announced before the document. Calibration sees one shape
/// (`calibration`); plans are judged on shapes it never saw (`heldOut`), so they cannot be fitted to one.
public struct PasskeyFormat: Hashable, Sendable, CustomStringConvertible {
    public enum Filler: String, CaseIterable, Sendable {
        /// The classic repeated sentences (`passkey-filler.txt`).
        case classic
        /// Natural prose (the built-in corpus), never repeating.
        case prose
        /// Generated Python source: small functions with made-up names and constants.
        case code
        /// Generated records, one per line: ids, names, cities, amounts.
        case records
    }

    public enum Key: String, CaseIterable, Sendable {
        /// Five digits (12345).
        case digits
        /// Two words (amber falcon).
        case words
        /// A UUID-like hex key (3f9a2c1b-77d0).
        case uuid
    }

    public enum Question: String, CaseIterable, Sendable {
        /// The question comes only after the document.
        case after
        /// The labels that will be asked for are announced before the document too.
        case before
    }

    public var filler: Filler
    public var key: Key
    public var question: Question

    public init(_ filler: Filler, _ key: Key, _ question: Question) {
        self.filler = filler
        self.key = key
        self.question = question
    }

    /// `filler-key-question`, e.g. `prose-words-before`.
    public var description: String { "\(filler.rawValue)-\(key.rawValue)-\(question.rawValue)" }

    /// The shape of the passkey documents calibration uses (classic filler, digit keys, question after).
    public static let calibration = PasskeyFormat(.classic, .digits, .after)

    /// Shapes calibration never saw: other fillers, other keys, labels announced before.
    public static let heldOut = [
        PasskeyFormat(.prose, .words, .before),
        PasskeyFormat(.code, .uuid, .after),
        PasskeyFormat(.records, .digits, .before),
        PasskeyFormat(.code, .words, .before),
    ]

    /// A comma-separated list of formats or set names (`calibration`, `heldout`, `all`: every
    /// combination), in order, without repeats.
    public static func parseList(_ text: String) -> Result<[PasskeyFormat], PasskeyFormatError> {
        var out: [PasskeyFormat] = []
        for raw in text.split(separator: ",") {
            let item = raw.trimmingCharacters(in: .whitespaces)
            switch item {
            case "calibration": out.append(.calibration)
            case "heldout": out += heldOut
            case "all":
                for f in Filler.allCases { for k in Key.allCases { for q in Question.allCases { out.append(PasskeyFormat(f, k, q)) } } }
            default:
                let parts = item.split(separator: "-").map(String.init)
                guard parts.count == 3, let f = Filler(rawValue: parts[0]), let k = Key(rawValue: parts[1]),
                      let q = Question(rawValue: parts[2]) else { return .failure(PasskeyFormatError(item: item)) }
                out.append(PasskeyFormat(f, k, q))
            }
        }
        if out.isEmpty { return .failure(PasskeyFormatError(item: text)) }
        var seen = Set<PasskeyFormat>()
        return .success(out.filter { seen.insert($0).inserted })
    }

    /// A new key of this shape.
    func makeKey(_ rng: inout Xoshiro256) -> String {
        switch key {
        case .digits: return LoZATexts.key(&rng)
        case .words:
            let a = Self.adjectives[Int(rng.next() % UInt64(Self.adjectives.count))]
            let n = Self.nouns[Int(rng.next() % UInt64(Self.nouns.count))]
            return "\(a) \(n)"
        case .uuid:
            let hex = Array("0123456789abcdef")
            var s = ""
            for i in 0..<12 {
                if i == 8 { s.append("-") }
                s.append(hex[Int(rng.next() % 16)])
            }
            return s
        }
    }

    /// Whether `answer` (the greedy continuation of "The pass key for the X is") gives `key`: the first
    /// run of digits, the first two words, or the first hex key in it.
    public func answer(_ answer: String, gives key: String) -> Bool {
        switch self.key {
        case .digits:
            return String(answer.drop { !$0.isNumber }.prefix { $0.isNumber }) == key
        case .words:
            let words = answer.lowercased().split { !$0.isLetter }.prefix(2)
            return words.joined(separator: " ") == key
        case .uuid:
            let hexy: (Character) -> Bool = { $0.isHexDigit || $0 == "-" }
            return String(answer.lowercased().drop { !hexy($0) }.prefix(while: hexy)) == key
        }
    }

    /// The sentence that plants `key` for `label` in this filler.
    func keySentence(label: String, key: String) -> String {
        switch filler {
        case .classic, .prose:
            return " The pass key for the \(label) is \(key). Remember it. \(key) is the pass key for the \(label)."
        case .code:
            return "\n# The pass key for the \(label) is \(key). Remember it.\nPASS_KEY = \"\(key)\"  # the pass key for the \(label)\n"
        case .records:
            return "\nrecord: pass key | label: \(label) | key: \(key) | note: the pass key for the \(label) is \(key), remember it\n"
        }
    }

    /// The document's opening (the classic one for `classic`), with the labels announced when `before`.
    func intro(classic: String, labels: [String]) -> String {
        var text: String
        switch filler {
        case .classic: text = classic
        case .prose: text = "There are pass keys hidden in the text below. Find them and memorize them.\n\n"
        case .code: text = "The Python source below hides pass keys in its comments. Find them and memorize them.\n\n"
        case .records: text = "The records below hide pass keys among them. Find them and memorize them.\n\n"
        }
        if question == .before {
            text += "You will be asked for the pass keys of the " + labels.joined(separator: ", the ") + ".\n\n"
        }
        return text
    }

    static let adjectives = ["amber", "brisk", "calm", "dusty", "eager", "faint", "gentle", "hollow", "icy", "jolly",
                             "keen", "lively", "mellow", "narrow", "olive", "proud", "quiet", "rapid", "sandy",
                             "tidy", "upper", "vivid", "woody", "young"]
    static let nouns = ["falcon", "harbor", "lantern", "meadow", "pebble", "quarry", "ribbon", "saddle", "tunnel",
                        "violin", "walnut", "anchor", "bison", "candle", "dolphin", "ember", "fjord", "glacier",
                        "hammer", "island", "jasper", "kettle", "lemon", "magnet"]
}

public struct PasskeyFormatError: Error, CustomStringConvertible {
    public let item: String
    public var description: String {
        "passkey format '\(item)': expected FILLER-KEY-QUESTION (filler classic|prose|code|records, key digits|words|uuid, question after|before) or calibration, heldout, all"
    }
}
