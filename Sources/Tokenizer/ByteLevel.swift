/// GPT-2's byte-level alphabet: every byte value is written as one printable Unicode scalar, so
/// that vocabulary entries and merges are plain strings. Printable Latin-1 bytes (`!`..`~`,
/// `¡`..`¬`, `®`..`ÿ`) stand for themselves; the other 68 bytes map, in byte order, to U+0100...
enum ByteLevel {
    /// byte -> scalar value
    static let byteToScalar: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            if (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    /// scalar value (< 324) -> byte, or -1 when the scalar is not part of the alphabet
    static let scalarToByte: [Int16] = {
        var table = [Int16](repeating: -1, count: 324)
        for b in 0..<256 {
            table[Int(byteToScalar[b])] = Int16(b)
        }
        return table
    }()

    /// UTF-8 of the scalar that stands for `byte` (one or two bytes).
    static func encoded(_ byte: UInt8) -> [UInt8] {
        Array(String(Character(Unicode.Scalar(byteToScalar[Int(byte)])!)).utf8)
    }

    /// Maps text written in the byte-level alphabet back to bytes. Scalars outside the alphabet
    /// (which a well-formed vocabulary never holds) are kept as their own UTF-8.
    /// Writes to `out` (room for `text.count` bytes); returns the number of bytes written.
    static func decode(_ text: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) -> Int {
        var i = 0
        var w = 0
        let n = text.count
        scalarToByte.withUnsafeBufferPointer { table in
            while i < n {
                let (scalar, length) = UTF8Scan.decode(text, at: i)
                if scalar < 324, case let b = table[Int(scalar)], b >= 0 {
                    out[w] = UInt8(b)
                    w += 1
                } else {
                    for k in 0..<length { out[w + k] = text[i + k] }
                    w += length
                }
                i += length
            }
        }
        return w
    }

    /// Maps bytes to text in the byte-level alphabet.
    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes {
            s.append(Unicode.Scalar(byteToScalar[Int(b)])!)
        }
        return String(s)
    }
}

/// Minimal UTF-8 decoding over raw bytes (input from Swift strings is always valid UTF-8; invalid
/// bytes from elsewhere decode as themselves, one at a time, so scanning always advances).
enum UTF8Scan {
    @inline(__always)
    static func decode(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> (scalar: UInt32, length: Int) {
        let b0 = UInt32(p[i])
        let n = p.count
        if b0 < 0x80 { return (b0, 1) }
        if b0 & 0xE0 == 0xC0, i + 1 < n {
            return (((b0 & 0x1F) << 6) | (UInt32(p[i + 1]) & 0x3F), 2)
        }
        if b0 & 0xF0 == 0xE0, i + 2 < n {
            return (((b0 & 0x0F) << 12) | ((UInt32(p[i + 1]) & 0x3F) << 6) | (UInt32(p[i + 2]) & 0x3F), 3)
        }
        if b0 & 0xF8 == 0xF0, i + 3 < n {
            return (((b0 & 0x07) << 18) | ((UInt32(p[i + 1]) & 0x3F) << 12) | ((UInt32(p[i + 2]) & 0x3F) << 6)
                | (UInt32(p[i + 3]) & 0x3F), 4)
        }
        return (0xFFFD, 1)
    }
}

extension ByteLevel {
    /// UTF-8 of the scalar standing for each byte
    static let utf8: [[UInt8]] = (0..<256).map { encoded(UInt8($0)) }
}
