/// Calendar dates as people write them, for `ArgumentGrounding`: "April 11th, 2023", "the 2nd of march
/// 2023", "4 Mar 2023", "2023-04-11", "4/11/2023" (month first or day first: both are read). Tools want
/// ISO dates (`2023-04-11`) that users never type; a date the user wrote in any of these forms is theirs.
/// A date without a year grounds nothing (the year would be the model's).
enum WrittenDates {
    private static let months: [Substring: Int] = {
        let names = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
                     "october", "november", "december"]
        var map: [Substring: Int] = [:]
        for (i, name) in names.enumerated() {
            map[Substring(name)] = i + 1
            map[name.prefix(3)] = i + 1
        }
        map["sept"] = 9
        return map
    }()

    /// The ISO form (`YYYY-MM-DD`) of every date written in `text`.
    static func isoDates(in text: String) -> Set<String> {
        let words = tokens(of: text.lowercased())
        var found = Set<String>()
        func add(_ year: Int?, _ month: Int?, _ day: Int?) {
            guard let year, let month, let day, (1000...9999).contains(year), (1...12).contains(month),
                  (1...31).contains(day) else { return }
            found.insert(iso(year, month, day))
        }
        for (i, word) in words.enumerated() {
            // Numeric forms: 2023-04-11, 2023/04/11, 4/11/2023, 11.04.2023.
            let parts = word.split(whereSeparator: { $0 == "-" || $0 == "/" || $0 == "." }).map { Int($0) }
            if parts.count == 3, parts.allSatisfy({ $0 != nil }) {
                let (a, b, c) = (parts[0]!, parts[1]!, parts[2]!)
                if a >= 1000 { add(a, b, c) } else { add(c, a, b); add(c, b, a) }
                continue
            }
            guard let month = months[word] else { continue }
            // Month day year: "April 11th, 2023"; day (of) month year: "11 April 2023", "2nd of march 2023".
            let after = words.dropFirst(i + 1).prefix(2).map(dayOrYear)
            if after.count == 2 { add(after[1], month, after[0]) }
            var j = i - 1
            if j >= 0, words[j] == "of" { j -= 1 }
            if j >= 0, let year = words.dropFirst(i + 1).first.flatMap(dayOrYear) { add(year, month, dayOrYear(words[j])) }
        }
        return found
    }

    static func iso(_ year: Int, _ month: Int, _ day: Int) -> String {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day))"
    }

    /// "11", "11th", "2nd", "2023" as a number.
    private static func dayOrYear(_ word: Substring) -> Int? {
        var digits = word
        for suffix in ["st", "nd", "rd", "th"] where digits.hasSuffix(suffix) {
            digits = digits.dropLast(2)
            break
        }
        return Int(digits)
    }

    /// Words of letters or digits; dates written with `-`, `/` or `.` between numbers stay one word.
    private static func tokens(of text: String) -> [Substring] {
        text.split { !($0.isLetter || $0.isNumber || $0 == "-" || $0 == "/" || $0 == ".") }
            .map { word in
                var w = word
                while let last = w.last, last == "." || last == "-" || last == "/" { w = w.dropLast() }
                return w
            }
            .filter { !$0.isEmpty }
    }
}
