import Catalog

/// One agent task, as read from a YAML spec (see SpecParser) or built in code.
/// Which identical repeats of a call the loop refuses to run.
public enum RepeatedCallRule: String, Sendable, Hashable {
    /// A repeat of a call that ran in the step just before (nothing the agent did came between, so the
    /// result cannot have changed because of it): the default.
    case previousStep = "previous_step"
    /// A repeat of a call from any earlier step (`reject_repeated_calls: true`).
    case anyStep = "any_step"
    /// Every call runs (`reject_repeated_calls: false`; transcripts recorded before the rule existed).
    case never
}

/// What the loop does when the model calls a declared tool (`declared_calls` of a spec).
public enum DeclaredCallsMode: String, Sendable, Hashable, CaseIterable {
    /// The run ends after the turn, with its declared calls (status `calls`): the default.
    case end
    /// Each declared call is answered with `DeclaredCallsMode.acknowledgement` and the run goes on, so that a
    /// model that writes one call per turn can make the others a request lists in later turns; the run ends
    /// (status `calls`, the calls collected in the order made) at the first turn that collects none: a text
    /// reply, only calls that are not collected, or a budget spent. After the first call only further calls
    /// of the same tool with other required arguments are collected (see `CollectedCalls`).
    case collect

    /// What the model is shown as the result of a collected call (the caller has not run it yet).
    public static let acknowledgement = "OK"
    /// The metadata key of an acknowledgement's result, and its value for a call that was collected (other
    /// values say why a call was not).
    public static let metadataKey = "declared_call"
    public static let collectedNote = "collected for the caller"
}

/// `speculation` of a spec (see `TaskSpec.speculation`).
public enum SpeculationMode: String, Sendable, Hashable, CaseIterable {
    case off, lookup
}

public struct TaskSpec: Sendable, Hashable {
    public var name: String
    public var model: ModelRef
    public var attention: AttentionSettings?
    public var sampling: SamplingOptions
    public var system: String?
    /// The first user turn.
    public var prompt: String
    /// User turns sent one by one after the model's answer to the previous turn, in the same conversation
    /// (`prompts: [...]` in a spec holds `prompt` followed by these).
    public var followUps: [String] = []
    /// Earlier messages (user and assistant) placed between the system prompt and `prompt`, as a conversation
    /// that already happened (`history:` in a spec).
    public var history: [Message] = []
    /// Defaults substituted for `{{name}}` in `prompt` and `system`.
    public var parameters: [String: String]
    public var tools: [ToolEntry]
    public var sandbox: SandboxSettings
    public var limits: Limits
    /// Where the transcript is written; nil means the runtime's default location.
    public var transcript: String?
    /// Constrained tool-call decoding for the local engine (on by default).
    public var constrainToolCalls: Bool
    /// A turn may hold several calls one after another (`parallel_calls`, off by default: with it on the
    /// default model did no better on natural specs and wrote no second call on BFCL's parallel entries); off,
    /// the local engine ends a reply with its first bare call. Either way a call repeating an earlier one
    /// of the turn ends it.
    public var parallelCalls: Bool = false
    /// Calls written in the template's tagged form (`tag_calls`): a local model's reply that opens a call
    /// bare or fenced is stopped there and the call written again after the template's tag (see
    /// `LocalChatModel.tagCalls`). Transcripts recorded before the key replay without it.
    public var tagCalls: Bool = TaskSpec.defaultTagCalls
    /// `tag_calls` when a spec does not set it.
    public static let defaultTagCalls = false
    /// Copied string arguments before invented ones (`prefer_copied_values`): at a string argument's first
    /// token, a local model's opening that copies the user's words or a tool's result takes the place of a
    /// little likelier invented one (see `GroundedValues`). Transcripts recorded before the key replay without it.
    public var preferCopiedValues: Bool = TaskSpec.defaultPreferCopiedValues
    /// `prefer_copied_values` when a spec does not set it.
    public static let defaultPreferCopiedValues = false
    /// How a local model decodes (`speculation`): `lookup` (the default) guesses tokens from the context and
    /// verifies them in one pass, `off` decodes one token per pass. The tokens are the same either way.
    public var speculation: SpeculationMode = .lookup
    /// Directory of the spec file; relative paths in the spec resolve against it.
    public var baseDirectory: String
    /// Text appended (after a blank line) to every tool result the model sees; nil = none.
    /// A lever for weak models that keep calling tools after they have the answer.
    public var toolResultHint: String? = nil
    /// Which tool calls identical (same tool, same arguments) to an earlier one are answered, without running
    /// the tool, with an error result that repeats the earlier result (`reject_repeated_calls`).
    public var repeatedCalls: RepeatedCallRule = .previousStep
    /// Tool choice of the run's first turn (`auto`: the model decides; `required`: it must call a tool).
    /// Later turns are `auto`, except the turn after a refused repeated call, which is `none` (text only).
    public var firstToolChoice: ToolChoice = .auto
    /// Tools whose result answers the task: after a successful call of one of them, the next turn is text
    /// only (tool choice `none`), so the model reports the result instead of calling on.
    public var answerAfter: [String] = []
    /// Optional arguments whose values the model did not take from the user's messages or the tool results
    /// are dropped before the call runs, so the tool's default applies (`ground_optional_arguments`, on by
    /// default: on 160 BFCL entries it fixed 11 calls and broke 5, on natural specs it changed no answer).
    /// Transcripts recorded before the key existed replay with it off.
    public var groundOptionalArguments: Bool = true
    /// A reply that repeats a call that failed since the last call that worked (with a result not seen before) is decoded again with
    /// that call excluded (`exclude_failed_repeats`, on by default; local models). Transcripts recorded before the
    /// key existed replay with it off.
    public var excludeFailedRepeats: Bool = true
    /// Whether a call of a declared tool ends the run (`end`, the default) or is collected while the model goes
    /// on (`collect`): see `DeclaredCallsMode`.
    public var declaredCalls: DeclaredCallsMode = .end

    public init(name: String, model: ModelRef, attention: AttentionSettings? = nil, sampling: SamplingOptions = SamplingOptions(),
                system: String? = nil, prompt: String, parameters: [String: String] = [:], tools: [ToolEntry] = [],
                sandbox: SandboxSettings = SandboxSettings(), limits: Limits = Limits(), transcript: String? = nil,
                constrainToolCalls: Bool = true, baseDirectory: String = ".") {
        self.name = name
        self.model = model
        self.attention = attention
        self.sampling = sampling
        self.system = system
        self.prompt = prompt
        self.parameters = parameters
        self.tools = tools
        self.sandbox = sandbox
        self.limits = limits
        self.transcript = transcript
        self.constrainToolCalls = constrainToolCalls
        self.baseDirectory = baseDirectory
    }
}

public enum ModelRef: Sendable, Hashable {
    /// An alias (`qwen2.5-coder-0.5b-instruct`) or a path to a `.gguf` file.
    case local(String)
    /// An OpenAI-compatible chat-completions endpoint.
    case remote(RemoteModelSettings)
}

public struct RemoteModelSettings: Sendable, Hashable {
    /// Base URL, e.g. `http://127.0.0.1:8000/v1`.
    public var url: String
    public var name: String
    /// Name of the environment variable holding the API key, if any.
    public var apiKeyEnv: String?
    public var timeoutSeconds: Double
    public var retries: Int

    public init(url: String, name: String, apiKeyEnv: String? = nil, timeoutSeconds: Double = 600, retries: Int = 3) {
        self.url = url
        self.name = name
        self.apiKeyEnv = apiKeyEnv
        self.timeoutSeconds = timeoutSeconds
        self.retries = retries
    }
}

public struct AttentionSettings: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable { case full, loza }
    public var mode: Mode
    /// A plan string (`FSFS...`) or a path to a plan JSON file; nil = the shipped plan for the model.
    public var plan: String?
    public var blockSize: Int
    public var sinkBlocks: Int
    public var localBlocks: Int

    public init(mode: Mode, plan: String? = nil, blockSize: Int = LoZADefaults.blockSize,
                sinkBlocks: Int = LoZADefaults.sinkBlocks, localBlocks: Int = LoZADefaults.localBlocks) {
        self.mode = mode
        self.plan = plan
        self.blockSize = blockSize
        self.sinkBlocks = sinkBlocks
        self.localBlocks = localBlocks
    }
}

public enum ToolEntry: Sendable, Hashable {
    /// A tool built into loza, e.g. `shell`.
    case builtin(String)
    /// An executable plugin folder holding `tool.yaml`.
    case exec(path: String)
    case http(HTTPToolSpec)
    case mcp(MCPServerSpec)
    /// A tool with no implementation: a call of it is validated and recorded, and the run ends with status
    /// `calls` (the caller executes it). Plain function calling.
    case declare(ToolDeclaration)
}

public struct HTTPToolSpec: Sendable, Hashable {
    public var name: String
    public var description: String
    public var method: String
    /// URL template with `{param}` slots, percent-escaped on substitution.
    public var url: String
    public var headers: [String: String]
    /// Body template with `{param}` slots (JSON-escaped on substitution), or nil.
    public var body: String?
    public var parameters: JSONValue
    /// `host:port` strings that may be reached even when the address is loopback/private.
    public var allow: [String]
    public var timeoutSeconds: Double
    public var maxBytes: Int
    public var maxRedirects: Int

    public init(name: String, description: String, method: String = "GET", url: String, headers: [String: String] = [:],
                body: String? = nil, parameters: JSONValue = ["type": "object", "properties": [:]], allow: [String] = [],
                timeoutSeconds: Double = 30, maxBytes: Int = 1 << 20, maxRedirects: Int = 3) {
        self.name = name
        self.description = description
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.parameters = parameters
        self.allow = allow
        self.timeoutSeconds = timeoutSeconds
        self.maxBytes = maxBytes
        self.maxRedirects = maxRedirects
    }
}

public struct MCPServerSpec: Sendable, Hashable {
    public var command: [String]
    public var env: [String: String]
    public var timeoutSeconds: Double
    public var network: Bool

    public init(command: [String], env: [String: String] = [:], timeoutSeconds: Double = 30, network: Bool = false) {
        self.command = command
        self.env = env
        self.timeoutSeconds = timeoutSeconds
        self.network = network
    }
}

/// The `sandbox` keys of a spec. Defaults of the sandbox (README, Tools).
public struct SandboxSettings: Sendable, Hashable {
    /// `sandbox: none` in a spec: tools run unsandboxed, and the transcript says so.
    public var disabled: Bool
    public var network: Bool
    public var timeoutSeconds: Double
    public var memoryBytes: Int
    public var processes: Int
    public var outputBytes: Int
    public var cpuSeconds: Int
    public var fileSizeBytes: Int
    public var openFiles: Int
    /// Extra writable paths besides the private work directory.
    public var writable: [String]
    /// Environment variable names passed through from loza's environment.
    public var env: [String]
    /// The work directory the tools see as their current directory (created if missing);
    /// nil = a fresh temporary directory per run.
    public var workdir: String?
    /// A directory whose contents are copied into the fresh temporary work directory before the run
    /// (only without `workdir`; the original is never touched).
    public var workdirFrom: String? = nil
    /// Keep the temporary work directory after the run (it is removed by default).
    public var keepWorkdir: Bool = false

    public init(disabled: Bool = false, network: Bool = false, timeoutSeconds: Double = 30, memoryBytes: Int = 1 << 30,
                processes: Int = 128, outputBytes: Int = 64 << 10, cpuSeconds: Int = 60, fileSizeBytes: Int = 256 << 20,
                openFiles: Int = 256, writable: [String] = [], env: [String] = [], workdir: String? = nil) {
        self.disabled = disabled
        self.network = network
        self.timeoutSeconds = timeoutSeconds
        self.memoryBytes = memoryBytes
        self.processes = processes
        self.outputBytes = outputBytes
        self.cpuSeconds = cpuSeconds
        self.fileSizeBytes = fileSizeBytes
        self.openFiles = openFiles
        self.writable = writable
        self.env = env
        self.workdir = workdir
    }
}

public struct Limits: Sendable, Hashable {
    public var steps: Int
    public var tokens: Int
    public var wallSeconds: Double
    /// Consecutive malformed tool calls after which the run stops.
    public var maxConsecutiveToolErrors: Int

    public init(steps: Int = 20, tokens: Int = 16384, wallSeconds: Double = 600, maxConsecutiveToolErrors: Int = 3) {
        self.steps = steps
        self.tokens = tokens
        self.wallSeconds = wallSeconds
        self.maxConsecutiveToolErrors = maxConsecutiveToolErrors
    }
}
