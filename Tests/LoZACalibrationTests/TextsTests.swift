import Crypto
import LoZACalibration
import Testing

/// The calibration and evaluation texts are resources read at run time; they must be byte for byte the
/// text the shipped plans and the recorded evaluation figures were computed from (SHA-256 of the UTF-8
/// bytes, taken from the strings compiled into loza before they moved to resource files).
struct TextsTests {
    static func sha256(_ s: String) -> String {
        SHA256.hash(data: Array(s.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    @Test func textsAreTheOnesCalibratedWith() {
        #expect(Self.sha256(LoZACorpus.naturalText) == "ca58115f9f7b3775c6d2fc0ad25867f7271a4af5447095e1542f613043b27918")
        #expect(LoZACorpus.naturalText.unicodeScalars.count == 150_171)
        #expect(Self.sha256(LoZACorpus.passkeyIntro) == "9b5f5e6596ca32194ae7c13ce2dc23bc49bd416582278619466c1e4049a33ec3")
        #expect(Self.sha256(LoZACorpus.passkeyFiller) == "0a9c4a17d1e9564005050581a2108dc1c665d2c96a5122c56404148913cff1b9")
        #expect(Self.sha256(LoZACorpus.calibrationFiller) == "9e571c57e480b7fa573513b9265c308abc8930eb115f04501d9b848d5f6abb7c")
    }
}
