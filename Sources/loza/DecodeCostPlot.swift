import Foundation
import TranscriptIO

/// An SVG line chart of decode ms/token against context position, one line per run, so a person sees at a
/// glance whether the cost stays flat as a trace grows (LoZA) or climbs with it (full attention).
struct DecodeCostPlot {
    struct Series {
        var label: String
        var profile: DecodeProfile
    }

    var series: [Series]
    var title: String

    private static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    private let width = 760.0, height = 420.0
    private let left = 70.0, right = 20.0, top = 40.0, bottom = 60.0

    func svg() -> String {
        let points = series.map { s in s.profile.bins.map { (x: Double($0.position) + Double(s.profile.binWidth) / 2, y: $0.msPerToken) } }
        let xs = points.flatMap { $0.map(\.x) } + series.map { Double($0.profile.lastPosition) }
        let ys = points.flatMap { $0.map(\.y) }
        let xMax = Self.niceCeiling(xs.max() ?? 1)
        let yMax = Self.niceCeiling((ys.max() ?? 1) * 1.1)
        let plotW = width - left - right, plotH = height - top - bottom
        func px(_ x: Double) -> Double { left + x / xMax * plotW }
        func py(_ y: Double) -> Double { top + plotH - y / yMax * plotH }
        func f(_ d: Double) -> String { String(format: "%.1f", d) }

        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(width / 2))" y="22" text-anchor="middle" font-size="14">\(Self.escape(title))</text>

            """
        for i in 0...5 {
            let x = xMax * Double(i) / 5, y = yMax * Double(i) / 5
            out += "<line x1=\"\(f(px(x)))\" y1=\"\(f(top))\" x2=\"\(f(px(x)))\" y2=\"\(f(top + plotH))\" stroke=\"#eee\"/>\n"
            out += "<line x1=\"\(f(left))\" y1=\"\(f(py(y)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(py(y)))\" stroke=\"#eee\"/>\n"
            out += "<text x=\"\(f(px(x)))\" y=\"\(f(top + plotH + 16))\" text-anchor=\"middle\">\(Self.label(x))</text>\n"
            out += "<text x=\"\(f(left - 6))\" y=\"\(f(py(y) + 4))\" text-anchor=\"end\">\(Self.label(y))</text>\n"
        }
        out += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#333\"/>\n"
        out += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 22))\" text-anchor=\"middle\">context position (tokens)</text>\n"
        out += "<text transform=\"translate(18 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">decode ms/token</text>\n"
        for (i, s) in series.enumerated() {
            let color = Self.colors[i % Self.colors.count]
            let path = points[i].map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            out += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
            for p in points[i] { out += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"2.5\" fill=\"\(color)\"/>\n" }
            let legendY = top + 16 + Double(i) * 16
            let text = "\(s.label): end/start \(String(format: "%.2f", s.profile.endToStart))x"
            out += "<line x1=\"\(f(left + 10))\" y1=\"\(f(legendY - 4))\" x2=\"\(f(left + 30))\" y2=\"\(f(legendY - 4))\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            out += "<text x=\"\(f(left + 36))\" y=\"\(f(legendY))\">\(Self.escape(text))</text>\n"
        }
        return out + "</svg>\n"
    }

    /// 1, 2 or 5 times a power of ten, at or above `v`.
    static func niceCeiling(_ v: Double) -> Double {
        guard v > 0, v.isFinite else { return 1 }
        let p = pow(10, floor(log10(v)))
        for m in [1.0, 2.0, 2.5, 5.0, 10.0] where m * p >= v { return m * p }
        return 10 * p
    }

    static func label(_ v: Double) -> String {
        if v >= 1000 { return v.truncatingRemainder(dividingBy: 1000) == 0 ? "\(Int(v / 1000))K" : String(format: "%.1fK", v / 1000) }
        return v.rounded() == v ? "\(Int(v))" : String(format: "%.1f", v)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
