import Engine
import Testing

/// The hold-back of text that may start a stop string, piece by piece.
struct StopStringFilterTests {
    /// Pushes `pieces` and returns what was released, piece by piece, and whether a stop string completed.
    func run(_ stops: [String], _ pieces: [String]) -> (released: [String], stopped: Bool) {
        var filter = StopStringFilter(stops: stops)
        var released: [String] = []
        for piece in pieces {
            let (text, stopped) = filter.push(piece)
            released.append(text)
            if stopped { return (released, true) }
        }
        released.append(filter.flush())
        return (released, false)
    }

    @Test func holdsBackAPossibleStartUntilItCannotMatch() {
        // "</" may start "</end>": held; "</x" cannot: released at once.
        #expect(run(["</end>"], ["a </", "x b"]).released == ["a ", "</x b", ""])
        // Spread over four pieces, the stop string never shows, not even its first bytes.
        let r = run(["</end>"], ["ok<", "/e", "nd", ">tail"])
        #expect(r.stopped)
        #expect(r.released == ["ok", "", "", ""])
    }

    @Test func cutsAtTheEarliestStopAndDropsTheRest() {
        let r = run(["STOP", "ST"], ["abcSTOPdef"])
        #expect(r.stopped && r.released == ["abc"])
        let s = run(["yz", "xy"], ["wxyz"])
        #expect(s.stopped && s.released == ["w"])
    }

    @Test func aStopStringInsideOneLongerPieceIsFound() {
        let r = run(["\n\n"], ["one\n", "two\n\nthree"])
        #expect(r.stopped && r.released.joined() == "one\ntwo")
    }

    @Test func flushReleasesWhatIsHeld() {
        let r = run(["<|end|>"], ["done <|e"])
        #expect(!r.stopped && r.released == ["done ", "<|e"])
    }

    @Test func multiByteTextIsCutBetweenCharacters() {
        // "é" is C3 A9; the stop "é!" starts at its first byte.
        let r = run(["é!"], ["caf", "é", "!?"])
        #expect(r.stopped && r.released == ["caf", "", ""])
        let s = run(["é!"], ["café", " ok"])
        #expect(!s.stopped && s.released.joined() == "café ok")
        #expect(s.released[0] == "caf")
    }

    @Test func noStopStringsPassEverythingThrough() {
        var filter = StopStringFilter(stops: ["", ""])
        #expect(filter.isEmpty)
        #expect(filter.push("anything").text == "anything")
    }
}
