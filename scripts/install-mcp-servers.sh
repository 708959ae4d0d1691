#!/usr/bin/env bash
# Installs the MCP servers the tool tests drive (PyPI: mcp-server-time, mcp-server-git) into a virtualenv,
# $LOZA_MCP_VENV or ~/.cache/loza/mcp-venv. Needs python3 with venv, and git.
set -euo pipefail
VENV="${LOZA_MCP_VENV:-$HOME/.cache/loza/mcp-venv}"
if [ ! -x "$VENV/bin/mcp-server-time" ] || [ ! -x "$VENV/bin/mcp-server-git" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q mcp-server-time mcp-server-git
fi
echo "mcp servers: ok ($VENV)"
