@testable import Engine
import Testing

/// The guess length: none while guesses are mostly wrong, longer as they come right, bounded by what
/// the drafter has and by the rows a pass takes, and shorter when passes of more rows are measured dear.
struct GuessPolicyTests {
    @Test func lengthFollowsTheChanceOfBeingRight() {
        var p = GuessPolicy()
        for _ in 0..<20 { p.checked(guessed: 1, accepted: 0) }
        #expect(p.length(available: 7) == 0, "chance \(p.chance)")
        for _ in 0..<40 { p.checked(guessed: 4, accepted: 4) }
        let long = p.length(available: 7)
        #expect(long >= 3, "chance \(p.chance): \(long)")
        #expect(p.length(available: 2) <= 2)
        #expect(p.length(available: 0) == 0)
        #expect(p.length(available: 100) <= GuessPolicy.maxRows - 1)
    }

    @Test func measuredCostsShortenGuesses() {
        var cheap = GuessPolicy(), dear = GuessPolicy()
        for _ in 0..<40 { cheap.checked(guessed: 4, accepted: 3); dear.checked(guessed: 4, accepted: 3) }
        for rows in 1...GuessPolicy.maxRows {
            cheap.timed(rows: rows, elapsed: 0.020 * (0.9 + 0.1 * Double(rows)))
            dear.timed(rows: rows, elapsed: 0.020 * Double(rows))    // no saving from sharing the weights
        }
        #expect(cheap.length(available: 7) > 0)
        #expect(dear.length(available: 7) == 0)
    }
}
