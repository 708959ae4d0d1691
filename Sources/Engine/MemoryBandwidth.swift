import CKernels
import Foundation

/// Read bandwidth of main memory as this process sees it with a given number of threads: each pool
/// thread streams its own contiguous slice of a buffer far larger than the caches (reads only, as
/// decode reads weights and KV). The best of a few passes is reported, as STREAM does.
public enum MemoryBandwidth {
    /// Bytes per second. `bytes` defaults to 512 MiB (well beyond any L3 of this class of machine).
    public static func measure(threads: Int, bytes: Int = 512 << 20, passes: Int = 5) -> Double {
        let pool = ThreadPool(threads: threads)
        return measure(pool: pool, bytes: bytes, passes: passes)
    }

    public static func measure(pool: ThreadPool, bytes: Int = 512 << 20, passes: Int = 5) -> Double {
        let n = max(bytes / 4, 1 << 16)
        let buf = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { buf.deallocate() }
        let parts = pool.count
        // First touch from the thread that will read each slice (page placement), with non-zero data.
        pool.run { t in
            let r = ThreadPool.split(n, parts: parts, index: t, align: 1024)
            (buf + r.lowerBound).initialize(repeating: 1, count: r.count)
        }
        let sink = UnsafeMutablePointer<Float>.allocate(capacity: parts)
        defer { sink.deallocate() }
        var best = Double.infinity
        for _ in 0..<max(passes, 1) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            pool.run { t in
                let r = ThreadPool.split(n, parts: parts, index: t, align: 1024)
                sink[t] = loza_stream_read_sum(buf + r.lowerBound, Int64(r.count))
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return Double(n * 4) / best
    }
}
