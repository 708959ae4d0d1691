#if canImport(Glibc)
import Glibc
#endif

/// A resolved IP address, v4 or v6, in network byte order.
enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(UInt32)
    case v6([UInt8])   // 16 bytes

    /// Parses a literal (`127.0.0.1`, `::1`, `[::1]`); nil for host names.
    init?(literal: String) {
        var text = literal
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if let zone = text.firstIndex(of: "%") { text = String(text[..<zone]) }
        var a4 = in_addr()
        if inet_pton(AF_INET, text, &a4) == 1 {
            self = .v4(UInt32(bigEndian: a4.s_addr))
            return
        }
        var a6 = in6_addr()
        if inet_pton(AF_INET6, text, &a6) == 1 {
            self = .v6(withUnsafeBytes(of: a6) { Array($0) })
            return
        }
        return nil
    }

    init?(sockaddr sa: UnsafePointer<sockaddr>) {
        switch Int32(sa.pointee.sa_family) {
        case AF_INET:
            let a = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
            self = .v4(UInt32(bigEndian: a))
        case AF_INET6:
            let a = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
            self = .v6(withUnsafeBytes(of: a) { Array($0) })
        default:
            return nil
        }
    }

    var description: String {
        switch self {
        case .v4(let v):
            return "\(v >> 24).\((v >> 16) & 255).\((v >> 8) & 255).\(v & 255)"
        case .v6(let b):
            var a = in6_addr()
            withUnsafeMutableBytes(of: &a) { $0.copyBytes(from: b) }
            var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            inet_ntop(AF_INET6, &a, &buf, socklen_t(buf.count))
            return buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        }
    }

    /// As written in a URL host or a CURLOPT_RESOLVE entry: IPv6 in brackets.
    var urlForm: String {
        if case .v6 = self { return "[\(description)]" }
        return description
    }

    /// Why the address may not be reached without an allowlist entry, or nil for an ordinary public address.
    var restriction: String? {
        switch self {
        case .v4(let a): return IPAddress.restriction(v4: a)
        case .v6(let b): return IPAddress.restriction(v6: b)
        }
    }

    private static func inNet(_ a: UInt32, _ net: UInt32, _ bits: UInt32) -> Bool {
        bits == 0 ? true : (a >> (32 - bits)) == (net >> (32 - bits))
    }

    static func restriction(v4 a: UInt32) -> String? {
        let table: [(UInt32, UInt32, String)] = [
            (0xA9FE_A9FE, 32, "cloud metadata"),        // 169.254.169.254
            (0x0000_0000, 8, "unspecified (0.0.0.0/8)"),
            (0x7F00_0000, 8, "loopback"),
            (0x0A00_0000, 8, "private"),
            (0xAC10_0000, 12, "private"),
            (0xC0A8_0000, 16, "private"),
            (0x6440_0000, 10, "shared address space (100.64.0.0/10)"),
            (0xA9FE_0000, 16, "link-local"),
            (0xC000_0000, 24, "reserved (192.0.0.0/24)"),
            (0xC000_0200, 24, "documentation"),
            (0xC612_0000, 15, "benchmarking"),
            (0xC633_6400, 24, "documentation"),
            (0xCB00_7100, 24, "documentation"),
            (0xE000_0000, 4, "multicast"),
            (0xF000_0000, 4, "reserved (240.0.0.0/4)"),
        ]
        for (net, bits, why) in table where inNet(a, net, bits) { return why }
        return nil
    }

    static func restriction(v6 b: [UInt8]) -> String? {
        func v4(at i: Int) -> UInt32 {
            UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
        }
        let zero10 = b[0..<10].allSatisfy { $0 == 0 }
        if b.allSatisfy({ $0 == 0 }) { return "unspecified (::)" }
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return "loopback" }
        if zero10 && b[10] == 0xFF && b[11] == 0xFF {          // ::ffff:a.b.c.d (IPv4-mapped)
            return restriction(v4: v4(at: 12)).map { "IPv4-mapped \($0)" }
        }
        if zero10 && b[10] == 0 && b[11] == 0 {                 // ::a.b.c.d (IPv4-compatible, deprecated)
            return "IPv4-compatible address"
        }
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B {   // 64:ff9b::/96 NAT64
            return restriction(v4: v4(at: 12)).map { "NAT64 \($0)" } ?? (b[4..<12].allSatisfy { $0 == 0 } ? nil : "NAT64 local-use")
        }
        if b[0] == 0x20 && b[1] == 0x02 {                       // 2002::/16 6to4
            return restriction(v4: v4(at: 2)).map { "6to4 \($0)" }
        }
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00 { return "Teredo (2001::/32)" }
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8 { return "documentation" }
        if b[0] == 0x01 && b[1] == 0x00 && b[2..<8].allSatisfy({ $0 == 0 }) { return "discard (100::/64)" }
        if b[0] & 0xFE == 0xFC {
            if b[0] == 0xFD && b[1] == 0x00 && b[2] == 0x0E && b[3] == 0xC2 { return "cloud metadata" }
            return "private (fc00::/7)"
        }
        if b[0] == 0xFE && b[1] & 0xC0 == 0x80 { return "link-local" }
        if b[0] == 0xFE && b[1] & 0xC0 == 0xC0 { return "site-local" }
        if b[0] == 0xFF { return "multicast" }
        return nil
    }
}

/// Resolves a host name to addresses with getaddrinfo (blocking: call off the cooperative pool).
enum Resolver {
    static func resolve(_ host: String, port: Int) -> Result<[IPAddress], HTTPFailure> {
        if let literal = IPAddress(literal: host) { return .success([literal]) }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            return .failure(HTTPFailure("cannot resolve \(host): \(String(cString: gai_strerror(rc)))"))
        }
        defer { freeaddrinfo(list) }
        var out: [IPAddress] = []
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let ai = p {
            if let sa = ai.pointee.ai_addr, let a = IPAddress(sockaddr: sa), !out.contains(a) { out.append(a) }
            p = ai.pointee.ai_next
        }
        return out.isEmpty ? .failure(HTTPFailure("\(host) has no addresses")) : .success(out)
    }
}

/// A refused or failed HTTP request, one line.
struct HTTPFailure: Error, Sendable {
    var message: String
    init(_ message: String) { self.message = message }
}
