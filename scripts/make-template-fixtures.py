#!/usr/bin/env python3
"""Render chat-template fixtures for Tests/ChatTemplateTests with Python's jinja2.

Reads `tokenizer.chat_template` from each GGUF (a tiny metadata reader below, no extra packages),
renders a varied set of conversations the way Hugging Face transformers does (jinja2 sandbox,
trim_blocks + lstrip_blocks, `tojson` = json.dumps(ensure_ascii=False)), and writes one JSON
fixture per model. The Swift tests render the same conversations and compare byte for byte.

Templates that ship with no model here (Qwen3, Llama 3.1 / 3.2) are read from .jinja files (TEMPLATES,
from llama.cpp's models/templates; default directory ~/.cache/loza/templates) and rendered with
`bos_token` empty (loza leaves BOS to the tokenizer) and no `strftime_now` (the Llama 3.2 template then
writes its fixed date); they also get EXTRA_CASES: reasoning (`reasoning_content`) on earlier and last
assistant turns, thinking inline in the content, tool-response user turns, `enable_thinking` false,
whitespace that Llama 3's `trim` removes. A case the template refuses (Llama 3: several calls in one
turn, tools with no user message) is left out of that template's fixture and reported.

Templates without native tool support (SmolLM2) get tools the way loza gives them (see
ChatTemplate.swift, `nativeTools == false`): the tool block of the Qwen2.5 format appended to the
system prompt, assistant tool calls written as `<tool_call>` text, tool results grouped in a user
turn as `<tool_response>` blocks. That transformation is applied here to the messages, then the
model's own template renders them.

usage: scripts/make-template-fixtures.py [MODELS_DIR [TEMPLATES_DIR]]
       (default $LOZA_MODELS or ~/.cache/loza/models, and ~/.cache/loza/templates)
"""
import hashlib, json, os, struct, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.ext import loopcontrols

MODELS = {
    "qwen2.5-coder-0.5b-instruct": "qwen2.5-coder-0.5b-instruct.gguf",
    "smollm2-135m-instruct": "smollm2-135m-instruct.gguf",
}
TEMPLATES = {
    "qwen3": "Qwen-Qwen3-0.6B.jinja",
    "llama3.1": "meta-llama-Llama-3.1-8B-Instruct.jinja",
    "llama3.2": "meta-llama-Llama-3.2-3B-Instruct.jinja",
}
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "ChatTemplateTests", "Fixtures")


def gguf_metadata(path):
    with open(path, "rb") as f:
        def u32(): return struct.unpack("<I", f.read(4))[0]
        def u64(): return struct.unpack("<Q", f.read(8))[0]
        def s(): return f.read(u64()).decode("utf-8")
        if f.read(4) != b"GGUF":
            sys.exit(f"{path}: not a GGUF file")
        u32(); u64(); nkv = u64()
        fmt = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
        def val(t):
            if t == 8: return s()
            if t == 9:
                et = u32(); n = u64()
                return [val(et) for _ in range(n)]
            st = struct.Struct(fmt[t]); return st.unpack(f.read(st.size))[0]
        meta = {}
        for _ in range(nkv):
            k = s(); meta[k] = val(u32())
        return meta


def tojson(x, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)


def raise_exception(message):
    raise ValueError(message)


def render(template, messages, tools, add_generation_prompt, **extra):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env.from_string(template).render(messages=messages, tools=tools or None,
                                            add_generation_prompt=add_generation_prompt, **extra)


# --- loza's tool fallback for templates without tools (mirrors ChatTemplate.swift) ---------------
TOOLS_HEADER = ("\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
                "You are provided with function signatures within <tools></tools> XML tags:\n<tools>")
TOOLS_FOOTER = ("\n</tools>\n\nFor each function call, return a json object with function name and arguments "
                "within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, "
                "\"arguments\": <args-json-object>}\n</tool_call>")


def fallback_messages(messages, tools, default_system):
    out = []
    rest = messages
    if tools:
        if messages and messages[0]["role"] == "system":
            system = messages[0]["content"]; rest = messages[1:]
        else:
            system = default_system or ""
        block = TOOLS_HEADER + "".join("\n" + tojson(t) for t in tools) + TOOLS_FOOTER
        out.append({"role": "system", "content": (system + block) if system else block.lstrip("\n")})
    for m in rest:
        if m["role"] == "assistant" and m.get("tool_calls"):
            parts = [m["content"]] if m["content"] else []
            for c in m["tool_calls"]:
                f = c["function"]
                parts.append('<tool_call>\n{"name": "' + f["name"] + '", "arguments": ' + tojson(f["arguments"]) + "}\n</tool_call>")
            out.append({"role": "assistant", "content": "\n".join(parts)})
        elif m["role"] == "tool":
            block = "<tool_response>\n" + m["content"] + "\n</tool_response>"
            if out and out[-1].get("_tool"):
                out[-1]["content"] += "\n" + block
            else:
                out.append({"role": "user", "content": block, "_tool": True})
        else:
            out.append(dict(m))
    for m in out:
        m.pop("_tool", None)
    return out


# --- conversations -----------------------------------------------------------------------------
def tool(name, description, parameters):
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


SHELL = tool("shell", "Run a shell command in the sandbox and return its output.",
             {"type": "object", "properties": {"command": {"type": "string", "description": "The command line."}},
              "required": ["command"]})
READ = tool("read_file", "Read lines of a text file.",
            {"type": "object", "properties": {
                "path": {"type": "string"},
                "start": {"type": "integer", "minimum": 1, "default": 1},
                "count": {"type": "integer", "maximum": 500},
                "encoding": {"type": "string", "enum": ["utf-8", "latin-1"]}},
             "required": ["path"], "additionalProperties": False})
CALC = tool("calculator", "Évalue une expression — 计算器 ✓", {"type": "object", "properties": {
    "expression": {"type": "string"}, "precision": {"type": ["integer", "null"]},
    "options": {"type": "object", "properties": {"radians": {"type": "boolean"}, "scale": {"type": "number"}}},
    "values": {"type": "array", "items": {"type": "number"}}}, "required": ["expression"]})
NOARGS = tool("list_files", "List files.", {"type": "object", "properties": {}})


def call(cid, name, args):
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}


def tool_msg(cid, name, content):
    return {"role": "tool", "content": content, "tool_call_id": cid, "name": name}


S = {"role": "system", "content": "You are a careful coding agent."}
U = {"role": "user", "content": "List the Swift files in Sources/ and count their lines."}

CASES = [
    ("user_only", [U], [], True),
    ("user_only_no_prompt", [U], [], False),
    ("system_user", [S, U], [], True),
    ("empty_system", [{"role": "system", "content": ""}, U], [], True),
    ("multi_turn", [S, U, {"role": "assistant", "content": "Sure. Which directory?"},
                    {"role": "user", "content": "Sources/, please.\nThanks!"}], [], True),
    ("multi_turn_no_system", [U, {"role": "assistant", "content": "Done."}, {"role": "user", "content": "And tests?"}], [], False),
    ("unicode", [{"role": "system", "content": "Réponds en français. 你好 🎉"},
                 {"role": "user", "content": "Ça va? \"quotes\" and \\backslash\\ and <tags> & tabs\there"}], [], True),
    ("later_system", [U, {"role": "assistant", "content": "ok"}, {"role": "system", "content": "Be brief."},
                      {"role": "user", "content": "go"}], [], True),
    ("tools_no_system", [U], [SHELL], True),
    ("tools_system", [S, U], [SHELL, READ, CALC, NOARGS], True),
    ("tool_call_and_result", [S, U,
        {"role": "assistant", "content": "", "tool_calls": [call("call_0_0", "shell", {"command": "ls Sources/*.swift | wc -l"})]},
        tool_msg("call_0_0", "shell", "12")], [SHELL], True),
    ("several_calls_one_turn", [U,
        {"role": "assistant", "content": "I will read both files.", "tool_calls": [
            call("call_0_0", "read_file", {"path": "a.swift", "start": 1, "count": 20}),
            call("call_0_1", "read_file", {"path": "b/ü ñ.swift", "encoding": "latin-1"}),
            call("call_0_2", "list_files", {})]},
        tool_msg("call_0_0", "read_file", "import Foundation\nlet x = 1"),
        tool_msg("call_0_1", "read_file", "error: no such file"),
        tool_msg("call_0_2", "list_files", "a.swift\nb.swift"),
        {"role": "assistant", "content": "a.swift has 2 lines; b/ü ñ.swift is missing."},
        {"role": "user", "content": "Thanks."}], [READ, NOARGS], True),
    ("tricky_arguments", [S, U,
        {"role": "assistant", "content": "", "tool_calls": [call("c1", "calculator", {
            "expression": "1/3 \"q\" \\ \n\t\u0001 \u007f \u2028 😀 é", "precision": None,
            "options": {"radians": True, "scale": 1.5}, "values": [0.1, 1e-07, 1e16, 2.5e-300, -0.0, 3, -42, 12345678901234]})]},
        tool_msg("c1", "calculator", "0.333")], [CALC], False),
    ("multi_step_agent", [S, U,
        {"role": "assistant", "content": "", "tool_calls": [call("call_0_0", "shell", {"command": "ls Sources"})]},
        tool_msg("call_0_0", "shell", "A.swift\nB.swift"),
        {"role": "assistant", "content": "", "tool_calls": [call("call_1_0", "shell", {"command": "wc -l Sources/*.swift"})]},
        tool_msg("call_1_0", "shell", "  10 Sources/A.swift\n  20 Sources/B.swift\n  30 total"),
        {"role": "assistant", "content": "There are 2 files with 30 lines in total."}], [SHELL], False),
    ("tool_result_last_no_prompt", [U,
        {"role": "assistant", "content": "", "tool_calls": [call("x", "shell", {"command": "true"})]},
        tool_msg("x", "shell", "")], [SHELL], False),
]


def thinking(content, reasoning, calls=None):
    m = {"role": "assistant", "content": content, "reasoning_content": reasoning}
    if calls:
        m["tool_calls"] = calls
    return m


U2 = {"role": "user", "content": "Now count the tests."}
EXTRA_CASES = [
    # (name, messages, tools, add_generation_prompt, enable_thinking)
    ("reasoning_last_turn", [S, U, thinking("There are 2 files.", "I listed them.\nTwo.\n")], [], False, True),
    ("reasoning_earlier_turns_dropped", [U, thinking("2 files.", "Counting."), U2, thinking("5 tests.", "Counting tests."),
                                         {"role": "user", "content": "Thanks!"}], [], True, True),
    ("empty_reasoning_last", [U, thinking("\n\nDone.", "")], [], False, True),
    ("no_reasoning_after_query_not_last", [U, {"role": "assistant", "content": "First part."},
                                           {"role": "assistant", "content": "Second part."}], [], False, True),
    ("inline_think_in_content", [U, {"role": "assistant", "content": "<think>\nLet me see.\n</think>\n\nTwo files."}],
     [], False, True),
    ("inline_think_earlier_turn", [U, {"role": "assistant", "content": "<think>a</think>b</think>\nc"}, U2], [], True, True),
    ("reasoning_in_tool_loop", [S, U,
        thinking("", "I should list the files.", [call("call_0_0", "shell", {"command": "ls Sources"})]),
        tool_msg("call_0_0", "shell", "A.swift\nB.swift"),
        thinking("Counting now.", "\nTwo files; count lines.\n", [call("call_1_0", "shell", {"command": "wc -l Sources/*"})]),
        tool_msg("call_1_0", "shell", "30 total")], [SHELL], True, True),
    ("tool_response_user_turn_is_not_a_query", [U, thinking("", "r1", [call("c", "shell", {"command": "ls"})]),
        {"role": "user", "content": "<tool_response>\nA.swift\n</tool_response>"},
        thinking("One file.", "r2")], [SHELL], False, True),
    ("thinking_disabled", [S, U], [], True, False),
    ("thinking_disabled_tools", [U], [SHELL, READ], True, False),
    ("whitespace_trimmed", [{"role": "system", "content": "  Be brief.\n\n"},
                            {"role": "user", "content": "\u001c\t hi there \u2028\n"},
                            {"role": "assistant", "content": "\n hello \u00a0"}, {"role": "user", "content": " again "}],
     [], True, True),
    ("tools_first_message_not_user", [S, {"role": "assistant", "content": " I am ready. "}, U], [SHELL], True, True),
]


def fixture_cases(template, native, default_system, extra):
    cases = [(n, m, t, a, True) for n, m, t, a in CASES] + (EXTRA_CASES if extra else [])
    out = []
    for name, messages, tools, agp, enable_thinking in cases:
        msgs = messages if native or not tools and not any(m["role"] == "tool" or m.get("tool_calls") for m in messages) \
            else fallback_messages(messages, tools, default_system)
        kwargs = {"bos_token": "", "enable_thinking": enable_thinking} if extra else {}
        try:
            expected = render(template, msgs, tools if native else None, agp, **kwargs)
        except Exception as e:  # the template refuses this conversation
            print(f"  {name}: left out ({type(e).__name__}: {e})")
            continue
        case = {"name": name, "messages": messages, "tools": [t for t in tools],
                "add_generation_prompt": agp, "expected": expected}
        if not enable_thinking:
            case["enable_thinking"] = False
        out.append(case)
    return out


def write_fixture(name, template, native, cases):
    fixture = {"model": name, "template": template,
               "template_sha256": hashlib.sha256(template.encode("utf-8")).hexdigest(),
               "native_tools": native, "cases": cases}
    with open(os.path.join(OUT, f"{name}.json"), "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{name}: {len(cases)} cases, template sha256 {fixture['template_sha256']}")


def main():
    models_dir = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("LOZA_MODELS", os.path.expanduser("~/.cache/loza/models"))
    templates_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.expanduser("~/.cache/loza/templates")
    os.makedirs(OUT, exist_ok=True)
    for model, filename in MODELS.items():
        path = os.path.join(models_dir, filename)
        if not os.path.exists(path):
            sys.exit(f"missing model file {path}")
        template = gguf_metadata(path)["tokenizer.chat_template"]
        native = "tools" in template
        default_system = None
        if not native:
            # SmolLM2's default system prompt, as its template writes it when messages[0] is not system.
            probe = render(template, [{"role": "user", "content": "x"}], None, False)
            if probe.startswith("<|im_start|>system\n"):
                default_system = probe[len("<|im_start|>system\n"):probe.index("<|im_end|>")]
        write_fixture(model, template, native, fixture_cases(template, native, default_system, extra=False))
    for name, filename in TEMPLATES.items():
        path = os.path.join(templates_dir, filename)
        if not os.path.exists(path):
            sys.exit(f"missing template file {path} (llama.cpp models/templates/{filename})")
        template = open(path, encoding="utf-8").read()
        write_fixture(name, template, True, fixture_cases(template, True, None, extra=True))

if __name__ == "__main__":
    main()
