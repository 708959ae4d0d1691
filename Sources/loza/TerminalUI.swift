import Agent
import AgentCore
import Foundation

/// Shows a run as it happens: the model's text streamed to stdout, each tool call and result set apart
/// (in colour on a terminal), and, while the model processes its prompt, a progress line on stderr.
final class TerminalUI: @unchecked Sendable {
    private let style: Style
    private let progressEnabled: Bool
    private let lock = NSLock()
    private var waitingSince: Date?
    private var waitingStep = 0
    private var prompt: (processed: Int, total: Int)?
    private var progressShown = false
    private var atLineStart = true
    private var ticker: Task<Void, Never>?
    /// Reasoning streams dimmed.
    private var thinking = ThinkingStyler()

    init(style: Style = .forStdout(), progress: Bool = Console.stderrIsTTY) {
        self.style = style
        self.progressEnabled = progress
    }

    func start() {
        guard progressEnabled else { return }
        ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: 200_000_000)
                self?.tick()
            }
        }
    }

    func stop() {
        ticker?.cancel()
        clearProgress()
    }

    func handle(_ update: AgentUpdate) {
        switch update {
        case .modelStarted(let step):
            lock.withLock {
                waitingSince = Date()
                waitingStep = step
                prompt = nil
                thinking.reset()
            }
            out(style.dim("── step \(step) ") + "\n")
        case .promptProgress(_, let processed, let total):
            lock.withLock { prompt = (processed, total) }
        case .text(let text):
            clearProgress()
            let pieces = lock.withLock {
                waitingSince = nil
                return thinking.push(text)
            }
            for piece in pieces { out(piece.thinking ? style.dim(piece.text) : piece.text) }
        case .event(let event):
            show(event)
        }
    }

    private func show(_ event: TranscriptEvent) {
        switch event {
        case .header(let h):
            let model = h.model.name + (h.model.attention.map { " (\($0))" } ?? "")
            out(style.dim("loza · \(model) · tools: \(h.tools.map(\.name).joined(separator: ", "))" +
                          (h.sandboxed ? "" : " · UNSANDBOXED")) + "\n")
        case .message(let m):
            out(style.bold("\(m.role.rawValue):") + " " + preview(m.content, maxLines: 6) + "\n")
        case .modelTurn(_, let t):
            clearProgress()
            var stats = "\(t.tokens.count) tokens"
            if t.decodeSeconds > 0, !t.tokens.isEmpty { stats += String(format: ", %.1f tok/s", Double(t.tokens.count) / t.decodeSeconds) }
            if t.guessedTokens > 0 { stats += ", \(t.acceptedGuesses)/\(t.guessedTokens) guesses right" }
            if t.promptTokens > 0 { stats += ", prompt +\(t.promptTokens) (reused \(t.reusedTokens))" }
            if let r = t.excludedRepeat { stats += "; decoded again, it repeated the call \(r.name) \(r.arguments.serialized(.python))" }
            newlineIfNeeded()
            out(style.dim("[\(t.stop.rawValue); \(stats)]") + "\n")
        case .toolCall(_, let c):
            let recovered = c.recovered ? style.yellow(" (recovered from a bare JSON reply)") : ""
            let dropped = c.ungrounded.map { style.dim(" (dropped, not in the conversation: " + $0.serialized(.python) + ")") } ?? ""
            out(style.cyan("→ \(c.name)") + " " + c.arguments.serialized(.python) + recovered + dropped + "\n")
        case .malformedCall(_, let m):
            out(style.red("→ malformed call") + style.dim(" [\(m.id)] ") + m.reason + "\n")
        case .toolResult(_, let r, _):
            let head = r.ok ? style.green("← \(r.name) ok") : style.red("← \(r.name) failed: \(r.error ?? "")")
            let timing = style.dim(String(format: " (%.2fs)", r.durationSeconds))
            let body = r.output.isEmpty ? "" : "\n" + style.dim(preview(r.output))
            out(head + timing + body + "\n")
        case .error(_, let message):
            out(style.red("error: \(message)") + "\n")
        case .final(let o):
            let mark: String
            switch o.status {
            case .final: mark = style.green("✓ final answer")
            case .failed: mark = style.red("✗ failed")
            case .budget: mark = style.yellow("✗ out of budget")
            case .calls: mark = style.green("→ declared calls for the caller")
            }
            newlineIfNeeded()
            out(mark + style.dim(" · \(o.reason) · \(o.steps) steps · \(o.tokens) tokens · " + String(format: "%.1fs", o.wallSeconds)) + "\n")
        }
    }

    private func out(_ text: String) {
        guard !text.isEmpty else { return }
        lock.withLock { atLineStart = text.hasSuffix("\n") }
        Console.out(text)
    }

    private func newlineIfNeeded() {
        if !lock.withLock({ atLineStart }) { out("\n") }
    }

    private func tick() {
        guard let (since, step, prompt) = lock.withLock({ waitingSince.map { ($0, waitingStep, prompt) } }) else { return }
        let seconds = Date().timeIntervalSince(since)
        guard seconds >= 0.5 else { return }
        let spinner = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"][Int(seconds * 5) % 10]
        var what = "processing the prompt…"
        if let prompt, prompt.total > 0 {
            what = "prompt \(prompt.processed)/\(prompt.total) tokens (\(prompt.processed * 100 / prompt.total)%)"
        }
        lock.withLock { progressShown = true }
        Console.err("\r\u{1B}[K\(spinner) step \(step): \(what) \(String(format: "%.1fs", seconds))")
    }

    private func clearProgress() {
        let shown = lock.withLock { () -> Bool in
            let s = progressShown
            progressShown = false
            return s
        }
        if shown { Console.err("\r\u{1B}[K") }
    }
}
