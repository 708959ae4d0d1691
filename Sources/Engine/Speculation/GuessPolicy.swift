import Foundation

/// How many guessed tokens to verify after each sampled token: the length that maximizes the
/// expected tokens per unit of time, from two running estimates.
///
/// - The chance that a guessed token is right, given the ones before it were (an exponential moving
///   average over the guesses checked, including "free" checks: when no guess is fed, the guess the
///   drafter would have made is compared with the token plain decoding samples, so the estimate
///   recovers after a bad stretch without paying for it).
/// - The time of a pass of T rows against one decode step, measured as the passes run (starting
///   from a prior: a row costs about half a decode step once the weights are read).
///
/// With per-token chance p, a guess of g tokens yields 1 + p + ... + p^g tokens for the time of a
/// (g + 1)-row pass; g = 0 is plain decoding. The choice only changes speed: the tokens are plain
/// decoding's either way.
struct GuessPolicy {
    static let maxRows = 8
    private static let rate = 0.15

    private(set) var chance = 0.6
    /// Seconds per pass by rows (index T), nil until measured.
    private var seconds = [Double?](repeating: nil, count: GuessPolicy.maxRows + 1)

    /// Relative cost of a T-row pass against one decode step.
    private func cost(_ rows: Int) -> Double {
        if let t = seconds[rows], let one = seconds[1], one > 0 { return t / one }
        return rows == 1 ? 1 : 0.55 + 0.45 * Double(rows)
    }

    /// Guess length (0: decode) for up to `available` guessed tokens.
    func length(available: Int) -> Int {
        let most = min(available, GuessPolicy.maxRows - 1)
        var best = 0, bestRate = 1.0
        var expected = 1.0, term = 1.0
        if most > 0 {
            for g in 1...most {
                term *= chance
                expected += term
                let r = expected / cost(g + 1)
                if r > bestRate * 1.02 { best = g; bestRate = r }
            }
        }
        return best
    }

    /// `accepted` of `guessed` guesses were right (the first wrong one ends the check).
    mutating func checked(guessed: Int, accepted: Int) {
        for _ in 0..<accepted { chance += GuessPolicy.rate * (1 - chance) }
        if accepted < guessed { chance -= GuessPolicy.rate * chance }
    }

    /// A pass of `rows` rows took `elapsed` seconds.
    mutating func timed(rows: Int, elapsed: Double) {
        guard rows >= 1 && rows <= GuessPolicy.maxRows else { return }
        if let t = seconds[rows] { seconds[rows] = t + 0.2 * (elapsed - t) } else { seconds[rows] = elapsed }
    }
}
