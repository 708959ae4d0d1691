#!/usr/bin/env bash
# Re-record the transcripts of every example in Examples/ into Transcripts/<name>.jsonl with the release
# build of loza (default model, 2 threads), then check each with `loza replay --mode verify`.
# Run it after any change to engine numerics, tokenizer, templates or the agent loop, and commit the result.
# Usage: scripts/record-transcripts.sh [--no-build] [EXAMPLE.yaml ...]   (default: all of Examples/*.yaml)
set -euo pipefail
cd "$(dirname "$0")/.."
build=1
if [[ "${1:-}" == "--no-build" ]]; then build=0; shift; fi
if (( build )); then swift build -c release --product loza; fi
loza="$(swift build -c release --show-bin-path)/loza"
threads="${LOZA_THREADS:-2}"
specs=("$@")
if (( ${#specs[@]} == 0 )); then specs=(Examples/*.yaml); fi
mkdir -p Transcripts
failed=0
for spec in "${specs[@]}"; do
    name="$(basename "$spec" .yaml)"
    out="Transcripts/$name.jsonl"
    rm -f "$out"
    echo "== $spec -> $out"
    if ! "$loza" run "$spec" --threads "$threads" --transcript "$out" --json; then
        echo "!! $spec: the run did not end with a final answer" >&2; failed=1
    fi
    if ! "$loza" replay "$out" --mode verify >/dev/null; then
        echo "!! $out: replay --mode verify failed" >&2; failed=1
    fi
done
exit $failed
