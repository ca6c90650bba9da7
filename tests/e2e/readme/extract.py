#!/usr/bin/env python3
"""Extracts the shell examples of Markdown files for tests/e2e/readme/run.sh.

Usage: extract.py OUT_DIR FILE.md...

Every fenced block whose info string is bash, sh, shell or console becomes OUT_DIR/<n>.sh (console blocks: only the
"$ " command lines and their backslash continuations; the rest is shown output). OUT_DIR/index.tsv gets one line per
block: n, file, line of the opening fence, language, mode, reason, selftest expectation. The mode comes from an HTML
comment on the nearest non-blank line before the fence:
  <!-- readme-test: skip (why it cannot run in CI) -->   not run, listed with its reason (the reason is required)
  <!-- readme-test: expect-error -->                      run; the block must fail (an example of an error answer)
no marker: run; the block must succeed. A marker that is none of these gives the mode "bad-marker", which fails.
"<!-- selftest-expect: pass|fail|skip -->" on a line just above (only the harness's own fixture uses it) is copied
into the last column.
"""
import os
import re
import sys

LANGUAGES = {"bash", "sh", "shell", "console"}
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^\s`]*)")
MARKER = re.compile(r"<!--\s*readme-test:\s*(?P<body>.*?)\s*-->")
SKIP = re.compile(r"^skip\s*\((?P<reason>.*\S.*)\)$")
SELFTEST = re.compile(r"<!--\s*selftest-expect:\s*(?P<expect>\w+)\s*-->")


def previous_nonblank(lines, index, count):
    found = []
    i = index - 1
    while i >= 0 and len(found) < count:
        if lines[i].strip():
            found.append(lines[i])
        i -= 1
    return found


def mode_of(lines, fence_index):
    before = previous_nonblank(lines, fence_index, 2)
    marker = MARKER.search(before[0]) if before else None
    expect = ""
    for line in before:
        m = SELFTEST.search(line)
        if m:
            expect = m.group("expect")
    if not marker:
        return "run", "", expect
    body = marker.group("body")
    skip = SKIP.match(body)
    if skip:
        return "skip", skip.group("reason").strip(), expect
    if body == "expect-error":
        return "expect-error", "", expect
    return "bad-marker", f"unknown or incomplete marker '{body}' (skip needs a reason: skip (needs docker))", expect


def console_commands(body):
    commands, continuing = [], False
    for line in body:
        stripped = line.lstrip()
        if continuing:
            commands.append(line)
        elif stripped.startswith("$ "):
            commands.append(stripped[2:])
        else:
            continue
        continuing = line.rstrip().endswith("\\")
    return commands


def blocks(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = len(m.group("indent")), m.group("fence"), m.group("info").lower()
        close = re.compile(r"^\s*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$")
        body, j = [], i + 1
        while j < len(lines) and not close.match(lines[j]):
            line = lines[j]
            body.append(line[indent:] if line[:indent].strip() == "" else line.lstrip())
            j += 1
        if info in LANGUAGES:
            mode, reason, expect = mode_of(lines, i)
            yield i + 1, info, mode, reason, expect, console_commands(body) if info == "console" else body
        i = j + 1


def main():
    out, files = sys.argv[1], sys.argv[2:]
    os.makedirs(out, exist_ok=True)
    n = 0
    with open(os.path.join(out, "index.tsv"), "w", encoding="utf-8") as index:
        for path in files:
            for line, info, mode, reason, expect, body in blocks(path):
                n += 1
                with open(os.path.join(out, f"{n}.sh"), "w", encoding="utf-8") as f:
                    f.write("\n".join(body) + "\n")
                index.write("\x1f".join([str(n), path, str(line), info, mode, reason, expect]) + "\n")


if __name__ == "__main__":
    main()
