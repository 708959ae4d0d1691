/// The character classes the pre-tokenizer patterns use, from the Unicode general category and the
/// White_Space property of the Swift standard library's Unicode tables:
/// `\p{L}` (Lu Ll Lt Lm Lo), `\p{N}` (Nd Nl No), `\p{P}` (Pc Pd Ps Pe Pi Pf Po), `\s` (White_Space).
enum CharClass {
    static let letter: UInt8 = 1
    static let number: UInt8 = 2
    static let space: UInt8 = 4
    static let punct: UInt8 = 8

    /// Classes of the Basic Multilingual Plane, computed once (about 65 K property look-ups).
    static let bmp: [UInt8] = (0..<0x10000).map { compute(UInt32($0)) }

    static func compute(_ value: UInt32) -> UInt8 {
        guard let scalar = Unicode.Scalar(value) else { return 0 }
        let properties = scalar.properties
        var c: UInt8 = properties.isWhitespace ? space : 0
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            c |= letter
        case .decimalNumber, .letterNumber, .otherNumber:
            c |= number
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            c |= punct
        default:
            break
        }
        return c
    }
}

/// One fragment of text decoded to scalars, with their classes and the byte offset where each
/// starts (`offsets[count]` is the end), in buffers owned by the caller.
struct ScalarText {
    let scalars: UnsafeMutablePointer<UInt32>
    let classes: UnsafeMutablePointer<UInt8>
    let offsets: UnsafeMutablePointer<Int>
    var count = 0

    init(capacity: Int) {
        scalars = .allocate(capacity: capacity)
        classes = .allocate(capacity: capacity)
        offsets = .allocate(capacity: capacity + 1)
    }

    func deallocate() {
        scalars.deallocate()
        classes.deallocate()
        offsets.deallocate()
    }

    /// Decodes `bytes[start..<end]`.
    mutating func load(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int,
                       bmp: UnsafeBufferPointer<UInt8>) {
        var i = start
        var n = 0
        while i < end {
            let (scalar, length) = UTF8Scan.decode(bytes, at: i)
            scalars[n] = scalar
            classes[n] = scalar < 0x10000 ? bmp[Int(scalar)] : CharClass.compute(scalar)
            offsets[n] = i
            n += 1
            i += length
        }
        offsets[n] = end
        count = n
    }
}
