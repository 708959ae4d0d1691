"""JSON Lines files of the workload scripts (gsm.py, tau2.py): tasks and `loza batch` results."""
import json
import sys


def read_jsonl(path, what, prog):
    """The JSON lines of a file; a torn last line (a batch cut by a crash) is skipped with a warning, any
    other bad line is an error naming file and line (`prog` names the script in messages)."""
    try:
        lines = open(path).read().split("\n")
    except OSError as error:
        sys.exit(f"{prog}: cannot read {what}s: {error}")
    rows = []
    last = max((n for n, line in enumerate(lines, 1) if line.strip()), default=0)
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError as error:
            if n == last:
                print(f"{prog}: {path}:{n}: skipping a torn last line", file=sys.stderr)
                continue
            sys.exit(f"{prog}: {path}:{n}: bad {what} line: {error}")
    return rows
