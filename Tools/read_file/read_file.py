#!/usr/bin/env python3
"""read_file plugin: {path, start_line?, end_line?} on stdin -> numbered lines on stdout."""
import difflib
import json
import os
import sys

MAX_LINES = 2000
MAX_LINE_CHARS = 2000


def work_files(limit=5000):
    """Relative paths of the files under the work directory (hidden folders skipped), at most `limit`."""
    found = []
    for root, dirs, files in os.walk("."):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            found.append(os.path.normpath(os.path.join(root, name)))
            if len(found) >= limit:
                return found
    return found


def missing(path):
    """The error for a path that does not exist, with what does: files of a similar name, or else the
    top of the work directory, so the caller can correct the path instead of retrying it."""
    files = work_files()
    wanted = os.path.normpath(path.lstrip("/")) if path else ""
    base = os.path.basename(wanted)
    close = [f for f in files if os.path.basename(f) == base and base]
    close += [f for f in difflib.get_close_matches(wanted, files, n=3, cutoff=0.75) if f not in close]
    if close:
        return f"no such file: {path} (did you mean {', '.join(close[:3])}?)"
    try:
        top = sorted(e.name + ("/" if e.is_dir() else "") for e in os.scandir(".") if not e.name.startswith("."))
    except OSError:
        top = []
    if not top:
        return f"no such file: {path} (the work directory is empty)"
    more = f", and {len(top) - 20} more" if len(top) > 20 else ""
    return f"no such file: {path} (the work directory holds: {', '.join(top[:20])}{more})"


def main():
    args = json.load(sys.stdin)
    path = args["path"]
    start = int(args.get("start_line") or 1)
    end = args.get("end_line")
    end = int(end) if end is not None else None
    if start < 1 or (end is not None and end < start):
        sys.exit(f"invalid range: start_line={start}, end_line={end}")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        sys.exit(missing(path))
    except IsADirectoryError:
        sys.exit(f"{path} is a directory (use list_dir)")
    except PermissionError:
        sys.exit(f"permission denied: {path}")
    if b"\0" in data[:8192]:
        sys.exit(f"{path} looks like a binary file ({len(data)} bytes)")
    lines = data.decode("utf-8", "replace").splitlines()
    total = len(lines)
    if total == 0:
        print(f"({path} is empty)")
        return
    if start > total:
        sys.exit(f"start_line {start} is past the end of {path} ({total} lines)")
    last = min(end if end is not None else total, total, start + MAX_LINES - 1)
    width = len(str(last))
    out = []
    for n in range(start, last + 1):
        line = lines[n - 1]
        if len(line) > MAX_LINE_CHARS:
            line = line[:MAX_LINE_CHARS] + f" [... {len(line) - MAX_LINE_CHARS} more characters]"
        out.append(f"{n:>{width}}\t{line}")
    print("\n".join(out))
    if last < total and (end is None or end > last):
        print(f"[lines {start}-{last} of {total}; ask for start_line={last + 1} to read on]")


if __name__ == "__main__":
    main()
