"""Every relative link of README.md, CONTRIBUTING.md and docs/ leads somewhere: to a file or
folder of the repo and, with a #fragment into Markdown, to one of its headings (as GitHub names
their anchors). Sections move between these files; a link left pointing at the old place fails."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT

PAGES = sorted([ROOT / "README.md", ROOT / "CONTRIBUTING.md", *(ROOT / "docs").rglob("*.md")])
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE_SPAN = re.compile(r"`+[^`]*`+")


def prose(path: Path, spans: bool = False) -> list[tuple[int, str]]:
    """(line number, text) of the lines outside fenced code; code spans removed unless `spans`."""
    lines, fenced = [], False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append((number, line if spans else CODE_SPAN.sub("", line)))
    return lines


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats
    numbered -1, -2…"""
    found: set[str] = set()
    for _, line in prose(path, spans=True):
        heading = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            slug = re.sub(r"[^\w\- ]", "", heading.group(1).replace("`", "").lower()).replace(" ", "-")
            candidate, n = slug, 0
            while candidate in found:
                n += 1
                candidate = f"{slug}-{n}"
            found.add(candidate)
    return found


def relative_links(path: Path) -> list[tuple[int, str]]:
    return [
        (number, target)
        for number, line in prose(path)
        for target in LINK.findall(line)
        if not re.match(r"[a-z][a-z0-9+.-]*:", target)
    ]  # http:, https:, mailto:


def test_the_pages_have_links():
    assert sum(len(relative_links(p)) for p in PAGES) > 40, "the link pattern found next to nothing"


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_relative_links_resolve(page: Path):
    broken = []
    for number, target in relative_links(page):
        file_part, _, fragment = target.partition("#")
        destination = (page.parent / file_part).resolve() if file_part else page
        if not destination.exists():
            shown = destination.relative_to(ROOT) if destination.is_relative_to(ROOT) else destination
            broken.append(f"line {number}: {target}: no {shown}")
        elif fragment and destination.suffix == ".md" and fragment not in anchors(destination):
            broken.append(f"line {number}: {target}: no heading #{fragment} in {destination.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)}:\n" + "\n".join(broken)
