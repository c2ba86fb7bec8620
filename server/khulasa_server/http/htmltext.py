"""format=html: translate the text nodes of an HTML fragment or document and keep every byte of
its markup. The stdlib's HTML tokenizer finds the text nodes; the output is the input with
only those spans replaced, so tags, attributes, comments, entities in attributes and
whitespace come back exactly as sent."""

from __future__ import annotations

import html
from collections.abc import Callable
from html.parser import HTMLParser

# Text inside these is code, not prose; it is never sent to the model.
_KEEP = frozenset("script style code pre kbd samp var textarea template svg math".split())
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())


class _Nodes(HTMLParser):
    """Records where each text node starts and ends, and whether it is to be translated."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.starts: list[tuple[int, bool]] = []  # (offset of an event, is translatable text)
        self._stack: list[tuple[str, bool]] = []  # open elements: (tag, keeps its text)
        self._lines = [0]

    def feed_all(self, text: str) -> None:
        offset = 0
        for line in text.splitlines(keepends=True):
            offset += len(line)
            self._lines.append(offset)
        self.feed(text)
        self.close()

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._lines[line - 1] + column

    def _keeping(self) -> bool:
        return bool(self._stack) and self._stack[-1][1]

    def _event(self, text: bool = False) -> None:
        self.starts.append((self._offset(), text))

    def handle_starttag(self, tag, attrs):
        self._event()
        if tag in _VOID:
            return
        attributes = dict(attrs)
        keep = (
            self._keeping()
            or tag in _KEEP
            or (attributes.get("translate") or "").lower() == "no"
            or "notranslate" in (attributes.get("class") or "").split()
        )
        self._stack.append((tag, keep))

    def handle_startendtag(self, tag, attrs):
        self._event()

    def handle_endtag(self, tag):
        self._event()
        for i in range(len(self._stack) - 1, -1, -1):  # tolerate unclosed inner elements
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break

    def handle_data(self, data):
        self.starts.append((self._offset(), not self._keeping()))

    # Comments, doctypes, processing instructions, CDATA: markup, copied as they are.
    def handle_comment(self, data):
        self._event()

    def handle_decl(self, decl):
        self._event()

    def handle_pi(self, data):
        self._event()

    def unknown_decl(self, data):
        self._event()


def text_nodes(document: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the translatable text nodes of `document`, in order."""
    parser = _Nodes()
    parser.feed_all(document)
    bounds = [offset for offset, _ in parser.starts] + [len(document)]
    return [(start, bounds[i + 1]) for i, (start, text) in enumerate(parser.starts) if text and bounds[i + 1] > start]


def visible_text(document: str) -> str:
    """The text a reader sees (translatable nodes only), for language detection."""
    return " ".join(html.unescape(document[a:b]) for a, b in text_nodes(document))


def translate_html(
    documents: list[str], wants: Callable[[int, str], bool], translate: Callable[[list[str]], list[str]]
) -> list[str]:
    """Each document with the text nodes for which wants(index of the document, text) holds replaced by their
    translation. Every node of every document goes to one translate() call, so they share
    batches. Leading and trailing whitespace of a node stays where it was."""
    plans = []
    sources: list[str] = []
    for index, document in enumerate(documents):
        spans = []
        for start, end in text_nodes(document):
            raw = document[start:end]
            text = html.unescape(raw).strip()
            if text and wants(index, text):
                lead = raw[: len(raw) - len(raw.lstrip())]
                trail = raw[len(raw.rstrip()) :]
                spans.append((start, end, lead, trail))
                sources.append(text)
        plans.append(spans)
    translated = iter(translate(sources) if sources else [])
    out = []
    for document, spans in zip(documents, plans):
        pieces, last = [], 0
        for start, end, lead, trail in spans:
            pieces += [document[last:start], lead, html.escape(next(translated), quote=False), trail]
            last = end
        pieces.append(document[last:])
        out.append("".join(pieces))
    return out
