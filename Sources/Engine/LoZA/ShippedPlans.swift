/// Calibrated LoZA plans shipped with loza, keyed by the model file's SHA-256 (written by
/// `loza calibrate`; see each plan's "calibration" figures).
enum ShippedPlans {
    static let byModelSHA256: [String: String] = [:]
}
