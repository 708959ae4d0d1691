import ChatTemplate
import Engine

/// The tool-call constraint drives the engine's decode loop through its token-constraint hook.
/// ChatTemplate knows nothing of the engine, so the conformance lives here, where both meet; the methods
/// are `ToolCallConstraint`'s own (`constrain(logits:)`, `advance(_:)`, `mustEnd`).
extension ToolCallConstraint: TokenConstraint {}

/// The thinking block's constraint drives the decode loop the same way.
extension ThinkingConstraint: TokenConstraint {}
