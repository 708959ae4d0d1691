/// Restricts which tokens may come next, for a grammar the generated text must follow (the JSON of a
/// tool call, say). `Generator` calls `constrain` on the logits before every draw, `advance` with every
/// drawn token that is not an end of generation, and ends generation as soon as `mustEnd` is true.
/// A constraint keeps the state of one generation; it is a class because it changes as tokens come.
public protocol TokenConstraint: AnyObject {
    /// Sets the logits of the tokens that may not come next to -infinity.
    func constrain(logits: UnsafeMutableBufferPointer<Float>)
    /// Takes the token that was drawn.
    func advance(_ token: Int32)
    /// True when the text is complete and nothing but its end may follow.
    var mustEnd: Bool { get }
}
