"""One benchmark's section of docs/performance.md, written in place: the other sections kept.

Every script under benchmarks/ that writes its figures to the docs (``--write``) puts its
section here, under its own ``## `` heading: the section replaces the one under that
heading, or comes at the end when the doc has none yet.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "performance.md"


def put_section(section: str, heading: str, doc: Path = DOC) -> None:
    """Put ``section`` (its first line the ``heading``) in ``doc`` in place of the section
    under ``heading``, or at its end; the file is replaced atomically."""
    text = doc.read_text() if doc.exists() else "# Performance\n"
    section = section.strip() + "\n\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) \
        else text.rstrip() + "\n\n" + section
    fd, tmp = tempfile.mkstemp(dir=doc.parent, prefix=".performance-", suffix=".md")
    with os.fdopen(fd, "w") as out:
        out.write(text.rstrip() + "\n")
    os.replace(tmp, doc)
