/// A minimal ChatML rendering of one user message, for `loza generate --chat` until the ChatTemplate
/// module renders the model's own template. Both supported models use ChatML; Qwen models get Qwen's
/// default system message when none is given (as their template does).
public enum ChatML {
    public static let qwenDefaultSystem = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."

    public static func render(user: String, system: String? = nil, architecture: String) -> String {
        var out = ""
        let sys = system ?? (architecture == "qwen2" ? qwenDefaultSystem : nil)
        if let sys { out += "<|im_start|>system\n\(sys)<|im_end|>\n" }
        out += "<|im_start|>user\n\(user)<|im_end|>\n<|im_start|>assistant\n"
        return out
    }
}
