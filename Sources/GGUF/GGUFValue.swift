/// The type tags of GGUF metadata values (`gguf_type`).
public enum GGUFValueType: UInt32, Sendable, Hashable, CaseIterable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// Fixed size in bytes, or nil for strings and arrays.
    var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string, .array: nil
        }
    }

    /// The fewest bytes one value of this type can take in a file (for count sanity checks).
    var minimumSize: Int {
        switch self {
        case .string: 8
        case .array: 12
        default: fixedSize!
        }
    }

    public var name: String {
        switch self {
        case .uint8: "u8"
        case .int8: "i8"
        case .uint16: "u16"
        case .int16: "i16"
        case .uint32: "u32"
        case .int32: "i32"
        case .float32: "f32"
        case .bool: "bool"
        case .string: "string"
        case .array: "array"
        case .uint64: "u64"
        case .int64: "i64"
        case .float64: "f64"
        }
    }
}

/// One GGUF metadata value. Arrays carry their element type (so empty arrays keep it) and may nest.
public enum GGUFValue: Sendable, Hashable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case uint64(UInt64)
    case int64(Int64)
    case float32(Float)
    case float64(Double)
    case bool(Bool)
    case string(String)
    indirect case array(GGUFValueType, [GGUFValue])

    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .uint64: .uint64
        case .int64: .int64
        case .float32: .float32
        case .float64: .float64
        case .bool: .bool
        case .string: .string
        case .array: .array
        }
    }

    /// The value as an Int, for any integer type that fits.
    public var intValue: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// The value as a Float, for f32/f64 (and integers, converted).
    public var floatValue: Float? {
        switch self {
        case .float32(let v): v
        case .float64(let v): Float(v)
        default: intValue.map { Float($0) }
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var arrayValue: [GGUFValue]? {
        if case .array(_, let xs) = self { return xs }
        return nil
    }
}

extension GGUFValue: CustomStringConvertible {
    /// Short human form; long arrays are abbreviated.
    public var description: String {
        switch self {
        case .uint8(let v): "\(v)"
        case .int8(let v): "\(v)"
        case .uint16(let v): "\(v)"
        case .int16(let v): "\(v)"
        case .uint32(let v): "\(v)"
        case .int32(let v): "\(v)"
        case .uint64(let v): "\(v)"
        case .int64(let v): "\(v)"
        case .float32(let v): "\(v)"
        case .float64(let v): "\(v)"
        case .bool(let v): "\(v)"
        case .string(let s): s.count > 60 ? "\"\(s.prefix(57))...\"" : "\"\(s)\""
        case .array(let t, let xs):
            xs.count > 6
                ? "[\(t.name) x \(xs.count): \(xs.prefix(3).map(\.description).joined(separator: ", ")), ...]"
                : "[\(xs.map(\.description).joined(separator: ", "))]"
        }
    }
}
