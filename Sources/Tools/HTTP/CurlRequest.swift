import CCurl
import Foundation

/// One HTTP exchange as loza performs it: every hop's host resolved and checked, the connection pinned to
/// the checked addresses, redirects followed by hand and checked again.
struct HTTPRequest: Sendable {
    var method: String
    var url: String
    var headers: [(String, String)]
    var body: [UInt8]?
    /// `host:port` (lower-case host; IPv6 in brackets) that may be reached whatever their address.
    var allow: Set<String>
    var timeoutSeconds: Double
    var maxBytes: Int
    var maxRedirects: Int
}

struct HTTPResponse: Sendable {
    var status: Int
    var contentType: String?
    var body: [UInt8]
    /// The body was longer than `maxBytes`; the transfer was aborted there.
    var exceeded: Bool
    var finalURL: String
    var redirects: Int
}

/// Receives the body; refuses (aborting the transfer) past the limit.
private final class ResponseSink {
    var data: [UInt8] = []
    let limit: Int
    var exceeded = false
    init(limit: Int) { self.limit = limit }
}

private let writeCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    ptr, size, count, context in
    let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
    let n = size * count
    let room = sink.limit - sink.data.count
    if n > room {
        if room > 0, let ptr { sink.data.append(contentsOf: UnsafeRawBufferPointer(start: ptr, count: room)) }
        sink.exceeded = true
        return 0   // CURLE_WRITE_ERROR: stop the transfer
    }
    if let ptr { sink.data.append(contentsOf: UnsafeRawBufferPointer(start: ptr, count: n)) }
    return n
}

enum CurlClient {
    /// `curl_global_init`, once.
    static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    /// Runs the exchange on a dedicated thread (libcurl blocks).
    static func perform(_ request: HTTPRequest) async -> Result<HTTPResponse, HTTPFailure> {
        await withCheckedContinuation { cont in
            let t = Thread { cont.resume(returning: performBlocking(request)) }
            t.name = "loza-http"
            t.start()
        }
    }

    static func performBlocking(_ request: HTTPRequest) -> Result<HTTPResponse, HTTPFailure> {
        guard initialized else { return .failure(HTTPFailure("libcurl failed to initialize")) }
        let deadline = LibC.monotonicSeconds() + request.timeoutSeconds
        var url = request.url
        var method = request.method.uppercased()
        var body = request.body
        var headers = request.headers
        var redirects = 0
        var previousHost: String?
        while true {
            let target: Target
            switch check(url, allow: request.allow) {
            case .failure(let f): return .failure(f)
            case .success(let t): target = t
            }
            if let previousHost, previousHost != target.host {
                headers.removeAll { ["authorization", "cookie", "proxy-authorization"].contains($0.0.lowercased()) }
            }
            previousHost = target.host
            let remaining = deadline - LibC.monotonicSeconds()
            guard remaining > 0 else { return .failure(HTTPFailure("timed out after \(request.timeoutSeconds)s")) }
            let hop = exchange(target: target, method: method, headers: headers, body: body, timeout: remaining,
                               maxBytes: request.maxBytes)
            guard case .success(var response) = hop.result else { return hop.result }
            if [301, 302, 303, 307, 308].contains(response.status), let next = hop.redirectURL {
                redirects += 1
                guard redirects <= request.maxRedirects else {
                    return .failure(HTTPFailure("too many redirects (max_redirects is \(request.maxRedirects)); last Location: \(next)"))
                }
                if response.status != 307 && response.status != 308 && method != "GET" && method != "HEAD" {
                    method = "GET"
                    body = nil
                }
                url = next
                continue
            }
            response.redirects = redirects
            response.finalURL = url
            return .success(response)
        }
    }

    struct Target {
        var url: String
        var host: String       // as in the URL, lower-case, IPv6 bracketed
        var port: Int
        var addresses: [IPAddress]
        var literal: Bool
    }

    /// Parses `url` with libcurl's own parser (so the host checked is the host curl connects to), resolves
    /// the host and checks every address against the allowlist.
    static func check(_ url: String, allow: Set<String>) -> Result<Target, HTTPFailure> {
        guard let u = curl_url() else { return .failure(HTTPFailure("out of memory")) }
        defer { curl_url_cleanup(u) }
        guard curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK else {
            return .failure(HTTPFailure("invalid URL: \(url)"))
        }
        func part(_ p: CURLUPart, _ flags: UInt32 = 0) -> String? {
            var out: UnsafeMutablePointer<CChar>?
            guard curl_url_get(u, p, &out, flags) == CURLUE_OK, let out else { return nil }
            defer { curl_free(out) }
            return String(cString: out)
        }
        let scheme = part(CURLUPART_SCHEME)?.lowercased() ?? ""
        guard scheme == "http" || scheme == "https" else {
            return .failure(HTTPFailure("refused: only http and https URLs are allowed, got \(scheme)://"))
        }
        guard let rawHost = part(CURLUPART_HOST), let portText = part(CURLUPART_PORT, UInt32(CURLU_DEFAULT_PORT)),
              let port = Int(portText) else {
            return .failure(HTTPFailure("invalid URL (no host): \(url)"))
        }
        let host = rawHost.lowercased()
        let key = "\(host):\(port)"
        let allowed = allow.contains(key)
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        let addresses: [IPAddress]
        switch Resolver.resolve(bare, port: port) {
        case .failure(let f): return .failure(f)
        case .success(let a): addresses = a
        }
        if !allowed {
            for a in addresses {
                if let why = a.restriction {
                    return .failure(HTTPFailure("refused: \(key) resolves to \(a) (\(why)); only \"host:port\" entries in the tool's allow list may reach such addresses"))
                }
            }
        }
        return .success(Target(url: url, host: host, port: port, addresses: addresses,
                               literal: IPAddress(literal: bare) != nil))
    }

    struct Hop {
        var result: Result<HTTPResponse, HTTPFailure>
        var redirectURL: String?
    }

    static func exchange(target: Target, method: String, headers: [(String, String)], body: [UInt8]?, timeout: Double,
                         maxBytes: Int) -> Hop {
        guard let h = curl_easy_init() else { return Hop(result: .failure(HTTPFailure("curl_easy_init failed"))) }
        defer { curl_easy_cleanup(h) }
        let sink = ResponseSink(limit: maxBytes)
        let sinkRef = Unmanaged.passRetained(sink)
        defer { sinkRef.release() }
        var resolve: UnsafeMutablePointer<curl_slist>?
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer {
            curl_slist_free_all(resolve)
            curl_slist_free_all(headerList)
        }
        // Pin: curl connects only to the addresses checked above (no second DNS lookup to rebind).
        if !target.literal {
            let entry = "\(target.host):\(target.port):" + target.addresses.map(\.urlForm).joined(separator: ",")
            resolve = curl_slist_append(resolve, entry)
            loza_curl_setopt_ptr(h, CURLOPT_RESOLVE, resolve)
        }
        for (k, v) in headers { headerList = curl_slist_append(headerList, "\(k): \(v)") }
        if let headerList { loza_curl_setopt_ptr(h, CURLOPT_HTTPHEADER, headerList) }
        loza_curl_setopt_str(h, CURLOPT_URL, target.url)
        loza_curl_setopt_str(h, CURLOPT_PROTOCOLS_STR, "http,https")
        loza_curl_setopt_str(h, CURLOPT_PROXY, "")
        loza_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0)
        loza_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        loza_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, max(1, Int(timeout * 1000)))
        loza_curl_setopt_str(h, CURLOPT_USERAGENT, "loza")
        loza_curl_setopt_fn(h, CURLOPT_WRITEFUNCTION, unsafeBitCast(writeCallback, to: UnsafeMutableRawPointer.self))
        loza_curl_setopt_ptr(h, CURLOPT_WRITEDATA, sinkRef.toOpaque())
        switch method {
        case "GET": loza_curl_setopt_long(h, CURLOPT_HTTPGET, 1)
        case "HEAD": loza_curl_setopt_long(h, CURLOPT_NOBODY, 1)
        case "POST": loza_curl_setopt_long(h, CURLOPT_POST, 1)
        default: loza_curl_setopt_str(h, CURLOPT_CUSTOMREQUEST, method)
        }
        if let body, method != "GET" && method != "HEAD" {
            loza_curl_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            if body.isEmpty {
                loza_curl_setopt_str(h, CURLOPT_COPYPOSTFIELDS, "")
            } else {
                body.withUnsafeBytes { raw in
                    _ = loza_curl_setopt_ptr(h, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress!))
                }
            }
        }
        let rc = curl_easy_perform(h)
        if rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && sink.exceeded) {
            let why = String(cString: curl_easy_strerror(rc))
            if rc == CURLE_OPERATION_TIMEDOUT { return Hop(result: .failure(HTTPFailure("timed out: \(why)"))) }
            return Hop(result: .failure(HTTPFailure("request to \(target.host):\(target.port) failed: \(why)")))
        }
        var status = 0
        loza_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        var ctype: UnsafeMutablePointer<CChar>?
        loza_curl_getinfo_str(h, CURLINFO_CONTENT_TYPE, &ctype)
        var redirect: UnsafeMutablePointer<CChar>?
        loza_curl_getinfo_str(h, CURLINFO_REDIRECT_URL, &redirect)
        let response = HTTPResponse(status: status, contentType: ctype.map { String(cString: $0) }, body: sink.data,
                                    exceeded: sink.exceeded, finalURL: target.url, redirects: 0)
        return Hop(result: .success(response), redirectURL: redirect.map { String(cString: $0) })
    }
}
