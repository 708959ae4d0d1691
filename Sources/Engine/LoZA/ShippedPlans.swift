import Foundation

/// Calibrated LoZA plans shipped with loza: the JSON files in `LoZA/ShippedPlans/` (resources of this
/// module, written by scripts/ship-loza-plans.py from `loza calibrate` output), keyed by the model
/// file's SHA-256. Each holds the plan and its B/S/L; the calibration figures that chose it are kept
/// in `Docs/calibration/<model>.json`.
///
/// A release build finds the files in `loza_Engine.resources` beside the executable (SwiftPM copies the
/// bundle there), else at the path the bundle was built at.
enum ShippedPlans {
    /// The plan shipped for a model file with this SHA-256, if any.
    static func plan(forModelSHA256 sha: String) throws(EngineError) -> LoZAPlanFile? {
        try all().first { $0.model_sha256 == sha }
    }

    /// Every shipped plan, in file-name order.
    static func all() throws(EngineError) -> [LoZAPlanFile] {
        let directory = Bundle.module.bundleURL.appendingPathComponent("ShippedPlans")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else {
            throw .fileNotFound(path: directory.path)
        }
        var plans: [LoZAPlanFile] = []
        for name in names.filter({ $0.hasSuffix(".json") }).sorted() {
            let path = directory.appendingPathComponent(name).path
            guard let data = FileManager.default.contents(atPath: path) else { throw .fileNotFound(path: path) }
            plans.append(try LoZAPlanFile.decode(data, source: "shipped plan \(name)"))
        }
        return plans
    }
}
