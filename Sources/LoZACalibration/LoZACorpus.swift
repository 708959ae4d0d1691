import Foundation

/// The fixed prose of LoZA calibration and evaluation, shipped as UTF-8 text files in `Texts/`
/// (resources of this module), each read exactly as stored (no trailing newline is added or dropped):
///  - `python-docs.txt`: natural text, prose paragraphs of the Python documentation topics that ship
///    with CPython (written by scripts/make-loza-corpus.py; PSF documentation licence);
///  - `passkey-intro.txt`, `passkey-filler.txt`: the opening and the repeated filler of a passkey
///    document (`loza eval passkey`);
///  - `calibration-filler.txt`: the filler of calibration passkey documents (not the evaluation's, so
///    the evaluation stays held out in text as well as in keys).
///
/// A release build finds them in `loza_LoZACalibration.resources` beside the executable (SwiftPM
/// copies the bundle there), else at the path the bundle was built at.
public enum LoZACorpus {
    public static let naturalText = text("python-docs")
    public static let passkeyIntro = text("passkey-intro")
    public static let passkeyFiller = text("passkey-filler")
    public static let calibrationFiller = text("calibration-filler")

    static func text(_ name: String) -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: "txt", subdirectory: "Texts"),
              let data = try? Data(contentsOf: url) else {
            preconditionFailure("LoZA text \(name).txt is missing from \(Bundle.module.bundlePath)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
