#!/usr/bin/env python3
"""One BFCL multi-turn entry's tools as an MCP server over stdio (newline-delimited JSON-RPC 2.0, protocol
2025-06-18): `initialize`, `tools/list`, `tools/call`. The tools are bfcl-eval's own Python classes (a file
system, a trading bot, a ticket system, ...) loaded with the entry's `initial_config` and kept for the life of
the process, so state carries from call to call as in BFCL's own runs; calls are executed by bfcl-eval's
executor. Tooling for scripts/bfcl.py; scripts/setup-bfcl.sh installs it into the BFCL venv as the module
`loza_bfcl_mcp`, so that it runs inside loza's sandbox (which sees the venv read-only).

usage: python -m loza_bfcl_mcp --id multi_turn_base_0
"""
import argparse
import json
import os
import sys
import tempfile

# bfcl-eval keeps lock files under its project root; inside the sandbox only /tmp and the work dir are writable.
os.environ.setdefault("BFCL_PROJECT_ROOT", tempfile.mkdtemp(prefix="bfcl-"))


def load(entry_id):
    import types
    standin = types.ModuleType("bfcl_eval.constants.model_config")

    class Config:
        underscore_to_dot = False
        is_fc_model = True

    class Mapping(dict):
        def __missing__(self, key):
            return Config()

    standin.MODEL_CONFIG_MAPPING = Mapping()
    sys.modules.setdefault("bfcl_eval.constants.model_config", standin)
    from bfcl_eval.constants.enums import ModelStyle
    from bfcl_eval.constants.type_mappings import GORILLA_TO_OPENAPI
    from bfcl_eval.model_handler.utils import convert_to_function_call, convert_to_tool
    from bfcl_eval.utils import load_dataset_entry
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_utils import execute_multi_turn_func_call

    category = entry_id.rsplit("_", 1)[0]
    entry = next(e for e in load_dataset_entry(category) if e["id"] == entry_id)
    tools = [t["function"] for t in convert_to_tool(entry["function"], GORILLA_TO_OPENAPI, ModelStyle.OPENAI_COMPLETIONS)]

    def call(name, arguments):
        text = convert_to_function_call({name: arguments})[0]
        results, _ = execute_multi_turn_func_call(
            [text], entry["initial_config"], entry["involved_classes"], "loza_mcp", entry_id,
            long_context="long_context" in category, is_evaL_run=False)
        return str(results[0])

    return tools, call


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--id", required=True)
    args = parser.parse_args()
    tools, call = load(args.id)
    names = {t["name"] for t in tools}

    def reply(message_id, result=None, error=None):
        message = {"jsonrpc": "2.0", "id": message_id}
        if error is not None:
            message["error"] = error
        else:
            message["result"] = result
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except ValueError:
            reply(None, error={"code": -32700, "message": "parse error"})
            continue
        method, message_id = request.get("method"), request.get("id")
        if message_id is None:
            continue  # a notification (notifications/initialized)
        params = request.get("params") or {}
        if method == "initialize":
            reply(message_id, {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                               "serverInfo": {"name": "bfcl-" + args.id, "version": "2026.3.23"}})
        elif method == "tools/list":
            reply(message_id, {"tools": [{"name": t["name"], "description": t.get("description", ""),
                                          "inputSchema": t["parameters"]} for t in tools]})
        elif method == "tools/call":
            name = params.get("name")
            if name not in names:
                reply(message_id, {"content": [{"type": "text", "text": f"unknown tool {name}"}], "isError": True})
                continue
            text = call(name, params.get("arguments") or {})
            failed = text.startswith("Error during execution")
            reply(message_id, {"content": [{"type": "text", "text": text}], "isError": failed})
        elif method == "ping":
            reply(message_id, {})
        else:
            reply(message_id, error={"code": -32601, "message": f"method not found: {method}"})


if __name__ == "__main__":
    main()
