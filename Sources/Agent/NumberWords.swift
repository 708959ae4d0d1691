/// Numbers written in English words, for `ArgumentGrounding`: "three days" gives 3, "twenty-five" 25,
/// "two hundred and five" 205, "a dozen" 12, and a scale word after digits multiplies them ("50 million"
/// gives 50,000,000). Users write small counts as words ("top five", "two tickets"), and a call's `5` or
/// `2` is then theirs, not an invention. Ordinals are not read: "first" is mostly prose.
enum NumberWords {
    private static let units: [Substring: Double] = [
        "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
        "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
        "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
        "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    ]
    /// Words that stand for a number on their own but do not combine with others. Ordinals are left out:
    /// "the first charge" names no argument value (a `permitivity: 1` grounded by it was seen on BFCL).
    private static let alone: [Substring: Double] = ["dozen": 12, "half": 0.5, "twice": 2]
    private static let scales: [Substring: Double] = [
        "hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000,
    ]

    /// Every number the words of `text` write (each number word alone, each run of them as one number, and
    /// digits times a scale word that follows them).
    static func values(in text: String) -> Set<Double> {
        var found = Set<Double>()
        var total = 0.0, current = 0.0, inRun = false, afterScale = false, previous: Double?
        func endRun() {
            if inRun { found.insert(total + current) }
            total = 0; current = 0; inRun = false
        }
        for token in tokens(of: text.lowercased()) {
            guard case .word(let word) = token else {
                endRun()
                afterScale = false
                if case .digits(let value) = token { previous = value } else { previous = nil }
                continue
            }
            defer { afterScale = scales[word] != nil; previous = nil }
            if let value = units[word] {
                found.insert(value)
                current += value
                inRun = true
            } else if let scale = scales[word] {
                found.insert(scale)
                if let previous {
                    found.insert(previous * scale)  // "50 million"
                } else if scale == 100 {
                    current = max(current, 1) * scale
                    inRun = true
                } else {
                    total += max(current, inRun ? 0 : 1) * scale
                    current = 0
                    inRun = true
                }
            } else if word == "and", afterScale {
                continue  // "two hundred and five"
            } else {
                endRun()
                if let value = alone[word] { found.insert(value) }
            }
        }
        endRun()
        return found
    }

    private enum Token { case word(Substring), digits(Double), mark }

    /// Words (letters), numbers written in digits ("1.5", "1,200"), and punctuation that ends a run of
    /// number words (anything but spaces and hyphens between two words).
    private static func tokens(of text: String) -> [Token] {
        var out: [Token] = []
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if c.isLetter {
                let end = text[i...].firstIndex { !$0.isLetter } ?? text.endIndex
                out.append(.word(text[i..<end]))
                i = end
            } else if c.isASCII, c.isNumber {
                var end = text[i...].firstIndex { !($0.isASCII && $0.isNumber) && $0 != "." && $0 != "," } ?? text.endIndex
                while end > i, let last = text[..<end].last, last == "." || last == "," { end = text.index(before: end) }
                if let value = Double(text[i..<end].filter { $0 != "," }) { out.append(.digits(value)) } else { out.append(.mark) }
                i = end
            } else {
                if !(c == " " || c == "-" || c.isWhitespace), !(out.last.map { if case .mark = $0 { true } else { false } } ?? false) {
                    out.append(.mark)
                }
                i = text.index(after: i)
            }
        }
        return out
    }
}
