import CCurl
import Foundation

/// What a streaming transfer reports, in order: the HTTP status (once the first body bytes arrive), body
/// chunks as they arrive, then the end.
enum TransferEvent: Sendable {
    case status(Int)
    case data([UInt8])
    case end(TransferEnd)
}

enum TransferEnd: Sendable {
    case ok
    /// No connection could be made, or the connection broke (`retryable`), or another libcurl failure.
    case failed(String, retryable: Bool)
    /// No byte arrived for `timeoutSeconds`.
    case timedOut(Double)
    case cancelled
}

/// Set from any thread to abort a transfer at libcurl's next progress callback.
final class TransferControl: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    func cancel() { lock.withLock { flag = true } }
    var cancelled: Bool { lock.withLock { flag } }
}

/// One POST whose response body is streamed. libcurl blocks, so each transfer runs on its own thread and
/// hands its events to the async side through an `AsyncStream`.
struct StreamingPost: Sendable {
    var url: String
    var headers: [String]
    var body: [UInt8]
    /// Longest wait for the connection and for each next byte of the response.
    var timeoutSeconds: Double

    static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    func start() -> AsyncStream<TransferEvent> {
        let control = TransferControl()
        let (stream, continuation) = AsyncStream<TransferEvent>.makeStream(bufferingPolicy: .unbounded)
        continuation.onTermination = { _ in control.cancel() }
        let request = self
        let thread = Thread {
            let end = request.perform(control: control, continuation: continuation)
            continuation.yield(.end(end))
            continuation.finish()
        }
        thread.name = "loza-remote-model"
        thread.start()
        return stream
    }

    private func perform(control: TransferControl, continuation: AsyncStream<TransferEvent>.Continuation) -> TransferEnd {
        guard Self.initialized else { return .failed("libcurl failed to initialize", retryable: false) }
        guard let h = curl_easy_init() else { return .failed("curl_easy_init failed", retryable: false) }
        defer { curl_easy_cleanup(h) }
        let context = TransferContext(handle: h, control: control, continuation: continuation, idleTimeout: timeoutSeconds)
        let ref = Unmanaged.passRetained(context)
        defer { ref.release() }
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for header in headers { headerList = curl_slist_append(headerList, header) }
        loza_curl_setopt_str(h, CURLOPT_URL, url)
        loza_curl_setopt_str(h, CURLOPT_PROTOCOLS_STR, "http,https")
        loza_curl_setopt_ptr(h, CURLOPT_HTTPHEADER, headerList)
        loza_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        loza_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(timeoutSeconds * 1000)))
        loza_curl_setopt_str(h, CURLOPT_USERAGENT, "loza")
        loza_curl_setopt_long(h, CURLOPT_POST, 1)
        loza_curl_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
        body.withUnsafeBytes { raw in
            _ = loza_curl_setopt_ptr(h, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress!))
        }
        loza_curl_setopt_fn(h, CURLOPT_WRITEFUNCTION, unsafeBitCast(streamWriteCallback, to: UnsafeMutableRawPointer.self))
        loza_curl_setopt_ptr(h, CURLOPT_WRITEDATA, ref.toOpaque())
        loza_curl_setopt_long(h, CURLOPT_NOPROGRESS, 0)
        loza_curl_setopt_fn(h, CURLOPT_XFERINFOFUNCTION, unsafeBitCast(streamProgressCallback, to: UnsafeMutableRawPointer.self))
        loza_curl_setopt_ptr(h, CURLOPT_XFERINFODATA, ref.toOpaque())

        let rc = curl_easy_perform(h)
        if rc == CURLE_OK {
            if !context.statusSent {
                var status = 0
                loza_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
                continuation.yield(.status(status))
            }
            return .ok
        }
        if control.cancelled { return .cancelled }
        if context.timedOut || rc == CURLE_OPERATION_TIMEDOUT { return .timedOut(timeoutSeconds) }
        let why = String(cString: curl_easy_strerror(rc))
        let retryable = [CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_SEND_ERROR, CURLE_RECV_ERROR,
                         CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE].contains(rc)
        return .failed(why, retryable: retryable)
    }
}

/// State shared with the C callbacks; touched only on the transfer's thread.
final class TransferContext {
    let handle: UnsafeMutableRawPointer
    let control: TransferControl
    let continuation: AsyncStream<TransferEvent>.Continuation
    let idleTimeout: Double
    var lastActivity: Double
    var lastBytes: curl_off_t = 0
    var statusSent = false
    var timedOut = false

    init(handle: UnsafeMutableRawPointer, control: TransferControl, continuation: AsyncStream<TransferEvent>.Continuation,
         idleTimeout: Double) {
        self.handle = handle
        self.control = control
        self.continuation = continuation
        self.idleTimeout = idleTimeout
        self.lastActivity = Self.now()
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}

private let streamWriteCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    ptr, size, count, opaque in
    let context = Unmanaged<TransferContext>.fromOpaque(opaque!).takeUnretainedValue()
    let n = size * count
    if context.control.cancelled { return 0 }
    context.lastActivity = TransferContext.now()
    if !context.statusSent {
        var status = 0
        loza_curl_getinfo_long(context.handle, CURLINFO_RESPONSE_CODE, &status)
        context.continuation.yield(.status(status))
        context.statusSent = true
    }
    if let ptr, n > 0 {
        context.continuation.yield(.data(Array(UnsafeRawBufferPointer(start: ptr, count: n))))
    }
    return n
}

/// Called by libcurl about once a second even when idle: aborts on cancellation and on an idle timeout.
private let streamProgressCallback: @convention(c) (UnsafeMutableRawPointer?, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> Int32 = {
    opaque, _, dlnow, _, ulnow in
    let context = Unmanaged<TransferContext>.fromOpaque(opaque!).takeUnretainedValue()
    if context.control.cancelled { return 1 }
    let moved = dlnow + ulnow
    let now = TransferContext.now()
    if moved != context.lastBytes {
        context.lastBytes = moved
        context.lastActivity = now
    } else if now - context.lastActivity > context.idleTimeout {
        context.timedOut = true
        return 1
    }
    return 0
}
