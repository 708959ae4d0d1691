/// The LoZA streaming sparse attention parameters of Docs/ARCHITECTURE.md, LoZA, when a plan or spec gives
/// none: blocks of B = 128 positions, S = 1 sink block, L = 7 local blocks.
public enum LoZADefaults {
    public static let blockSize = 128
    public static let sinkBlocks = 1
    public static let localBlocks = 7

    /// "B 128, S 1, L 7", for help texts.
    public static let summary = "B \(blockSize), S \(sinkBlocks), L \(localBlocks)"
}
