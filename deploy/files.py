"""Generated files on disk: write the ones that changed, list the ones that drifted.

Every renderer (``deploy.render``, ``deploy.aws.render``) uses these, so none imports another
for them.
"""

from __future__ import annotations

from pathlib import Path

from deploy.tools import ROOT


def write(files: dict[str, str], root: Path = ROOT) -> list[str]:
    """Write each file whose content differs; the paths written."""
    changed = []
    for relative, content in sorted(files.items()):
        path = root / relative
        if path.exists() and path.read_text() == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        changed.append(relative)
    return changed


def drifted(files: dict[str, str], root: Path = ROOT) -> list[str]:
    """The files missing or different on disk."""
    return [
        relative
        for relative, content in sorted(files.items())
        if not (root / relative).exists() or (root / relative).read_text() != content
    ]
