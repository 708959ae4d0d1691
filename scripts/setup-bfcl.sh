#!/usr/bin/env bash
# Makes the BFCL venv (tooling only): bfcl-eval 2026.3.23 with just what its data, function-doc conversion,
# executor and checkers import (not its vendor clients), and the MCP server of scripts/bfcl_mcp_server.py
# installed as the module `loza_bfcl_mcp`. Prints the venv's python. Venv: $LOZA_BFCL_VENV or
# ~/.cache/loza/bfcl-venv.
set -euo pipefail
VENV="${LOZA_BFCL_VENV:-$HOME/.cache/loza/bfcl-venv}"
HERE="$(cd "$(dirname "$0")" && pwd)"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if ! "$VENV/bin/python" -c "import bfcl_eval, tree_sitter, tenacity, filelock, mpmath" 2>/dev/null; then
    "$VENV/bin/pip" install -q --no-deps bfcl-eval==2026.3.23
    "$VENV/bin/pip" install -q mpmath==1.3.0 tenacity filelock==3.20.0 tree_sitter==0.21.3 \
        tree-sitter-java==0.21.0 tree-sitter-javascript==0.21.4
fi
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
cp "$HERE/bfcl_mcp_server.py" "$SITE/loza_bfcl_mcp.py"
echo "$VENV/bin/python"
