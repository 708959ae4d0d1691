import Testing
@testable import Tools

@Suite struct OutputCaptureTests {
    @Test func keepsEverythingUnderTheLimit() {
        var c = OutputCapture(limit: 10)
        c.append(Array("hello".utf8))
        c.append(Array("world".utf8))
        #expect(!c.truncated)
        #expect(c.text == "helloworld")
        #expect(c.sha256 == "936a185caaa266bb9cbe981e9e05cb78cd732b0b3280eb944412bb6f8f8f07af")  // sha256("helloworld")
    }

    @Test(arguments: [1, 2, 3, 7, 64])
    func keepsHeadAndTailWhateverTheChunking(chunk: Int) {
        let data = Array("abcdefghijklmnopqrstuvwxyz".utf8)
        var c = OutputCapture(limit: 8)
        var i = 0
        while i < data.count {
            c.append(Array(data[i..<min(i + chunk, data.count)]))
            i += chunk
        }
        #expect(c.truncated && c.totalBytes == 26 && c.truncatedBytes == 18)
        #expect(c.text == "abcd\n[... 18 bytes truncated ...]\nwxyz")
        #expect(c.sha256 == "71c480df93d6ae2f1efad1447c66c9525e316218cf51fc8d9ed832f2daf18b73")  // sha256(a...z)
    }
}
