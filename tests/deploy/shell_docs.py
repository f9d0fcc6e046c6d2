"""The shell commands the deployment docs tell an operator to paste, as the shell would split
them, so tests can check they run what they claim (a real program, real outputs, real roles)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from django.core.management import get_commands

from portal import role

_FENCED = re.compile(r"^[ \t]*```(?:sh|bash)\n(.*?)^[ \t]*```", re.M | re.S)
_INLINE = re.compile(r"`(kubectl [^`]+)`")


def commands(path: Path) -> list[str]:
    """Every command line of the document's ``sh`` blocks (continuations joined, comments
    kept for shlex to drop) and every inline `kubectl …` span (line breaks as spaces)."""
    text = path.read_text()
    found: list[str] = []
    for block in _FENCED.findall(text):
        line = ""
        for raw in block.splitlines():
            stripped = raw.strip()
            if stripped.endswith("\\"):
                line += stripped[:-1] + " "
            elif stripped.endswith("|"):  # a pipe continued on the next line
                line += stripped + " "
            else:
                line += stripped
                if line.strip():
                    found.append(line.strip())
                line = ""
    found += [" ".join(span.split()) for span in _INLINE.findall(text)]
    return found


def split(command: str) -> list[str]:
    """The words as the shell passes them (``$(…)`` left as text), comments dropped."""
    return shlex.split(command, comments=True)


def exec_program(words: list[str]) -> list[str]:
    """What ``kubectl exec … -- <program> <args>`` runs in the container: the words after
    ``--``, with ``env NAME=value …`` resolved to the program it starts."""
    program = words[words.index("--") + 1 :]
    if program and program[0] == "env":
        program = program[1:]
        while program and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", program[0]):
            program = program[1:]
    return program


def role_problems(argv: list[str]) -> list[str]:
    """Why ``argv`` (``python -m portal.role <role> …`` or a role's own words) would not run
    one of the image's roles, or a management command that exists; [] when it would."""
    if argv[:3] == ["python", "-m", "portal.role"]:
        argv = argv[3:]
    try:
        role.command(argv)
    except SystemExit as exc:
        return [f"{argv}: {exc}"]
    if argv[0] == "manage" and (len(argv) < 2 or argv[1] not in get_commands()):
        return [f"{argv}: no such management command"]
    return []
