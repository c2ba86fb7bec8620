"""Precision and recall of the name flags against hand labels: model outputs whose invented
and lost names, places, institutions and roles a person marked (tests/data/eval_flags.jsonl).
The flags are computed here, now, by the same check the server runs, so the figures follow
the code; the outputs and labels are fixed, so the figures need no model.

A flag is right when it points at a labelled problem of its family: `added_name` and
`changed_role` at an invented name or role, `missing_name` and `unverified_name` at a lost
name. A label is found when a flag of its family points at it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from khulasa_server.pipeline.names import check, entities, find
from khulasa_server.pipeline.names.arabic import fold, words
from khulasa_server.pipeline.names.romanize import _collapse, english_skeleton
from khulasa_server.text.normalize import normalize

INVENTED = ("added_name", "changed_role")
# The labelled set no check was tuned on (tools/trust.py, which imports this module, says the same).
HELD_OUT = "eval_meaning"
LOST = ("missing_name", "unverified_name")


def load(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            rows += [json.loads(line) for line in handle if line.strip()]
    return rows


def _words(name: str) -> list[str]:
    return [w for w in name.replace("-", " ").split() if w.lower() not in ("the", "al", "el", "of", "bin")]


def same_name(a: str, b: str) -> bool:
    """Whether two English mentions name the same thing: equal words, one inside the other,
    one entity group (Egypt, Egyptian) or a name of a's group inside b, or the same family
    name by consonants."""
    # names joined by a hyphen are each named (Guinea in "Guinea-Sierra Leone")
    x, y = (" ".join(t.casefold().replace("-", " ").split()) for t in (a, b))
    if not x or not y:
        return False
    if x == y or f" {x} " in f" {y} " or f" {y} " in f" {x} ":
        return True
    group = entities.groups().of(a)
    if len(group) > 1 and b in group:
        return True
    if any(f" {g.casefold()} " in f" {y} " for g in group):
        return True  # a name of the group inside the label: Houthi in "Houthi group" for Houthis
    wa, wb = _words(a), _words(b)
    return bool(wa and wb) and _collapse(english_skeleton(wa[-1])) == _collapse(english_skeleton(wb[-1]))


def _arabic_overlap(a: str, b: str) -> bool:
    """Whether two Arabic names share a word (punctuation aside: يونيفيل in "(يونيفيل)")."""
    x, y = (set(m.group() for m in words(fold(t))) for t in (a, b))
    return bool(x & y)


def _matches(flag: str, label: Any) -> bool:
    kind, _, value = flag.partition(":")
    if kind == "added_name":
        return same_name(value, label if isinstance(label, str) else label["name"])
    if kind == "changed_role":
        person = value[value.find("(") + 1 : value.rfind(")")] if "(" in value else value
        return same_name(person, label if isinstance(label, str) else label["name"])
    if kind == "missing_name":
        return any(same_name(name.strip(), label["en"]) for name in value.split(" / ")) or _arabic_overlap(value, label["ar"])
    if kind == "unverified_name":
        return _arabic_overlap(value, label["ar"]) or same_name(value, label["en"])
    return False


def flags_of(row: dict[str, Any]) -> list[str]:
    """The name flags a segment gets (as Pipeline._segment gives them)."""
    from khulasa_server.pipeline.checks import missing_names

    source = normalize(row["ar"])
    flags = [f"missing_name:{n}" for n in missing_names(source, row["hypothesis"])] + check(find(source), row["hypothesis"])
    return [w for w in dict.fromkeys(flags) if w.partition(":")[0] in INVENTED + LOST]


def _ratio(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def score(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts and rates for each family (invented, lost, both), and per flag kind."""
    tally = {family: {"labels": 0, "found": 0, "flags": 0, "right": 0} for family in ("invented", "lost")}
    kinds = {kind: {"flags": 0, "right": 0} for kind in INVENTED + LOST}
    misses: list[dict[str, Any]] = []
    for row in rows:
        flags = flags_of(row)
        labels = {
            "invented": list(row.get("added", [])) + list(row.get("changed_role", [])),
            "lost": list(row.get("lost", [])),
        }
        for family, own in (("invented", INVENTED), ("lost", LOST)):
            mine = [f for f in flags if f.partition(":")[0] in own]
            right = [f for f in mine if any(_matches(f, label) for label in labels[family])]
            found = [label for label in labels[family] if any(_matches(f, label) for f in mine)]
            tally[family]["labels"] += len(labels[family])
            tally[family]["found"] += len(found)
            tally[family]["flags"] += len(mine)
            tally[family]["right"] += len(right)
            for flag in mine:
                kind = flag.partition(":")[0]
                kinds[kind]["flags"] += 1
                kinds[kind]["right"] += flag in right
            wrong = [f for f in mine if f not in right]
            missed = [label for label in labels[family] if label not in found]
            if wrong or missed:
                misses.append(
                    {"set": row.get("set"), "n": row.get("n"), "family": family, "wrong_flags": wrong, "missed": missed}
                )
    both = {key: tally["invented"][key] + tally["lost"][key] for key in tally["invented"]}
    out: dict[str, Any] = {}
    for family, counts in (*tally.items(), ("both", both)):
        out[family] = {
            **counts,
            "precision": _ratio(counts["right"], counts["flags"]),
            "recall": _ratio(counts["found"], counts["labels"]),
        }
    out["kinds"] = {kind: {**c, "precision": _ratio(c["right"], c["flags"])} for kind, c in kinds.items()}
    out["sentences"] = len(rows)
    out["errors"] = misses
    return out


def by_set(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Scores of all rows, of the sets the checks were tuned on (all but the held-out one),
    and of each set."""
    sets: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        sets.setdefault(row.get("set", ""), []).append(row)
    tuned = [r for r in rows if r.get("set") != HELD_OUT]
    both = {"tuned": score(tuned)} if HELD_OUT in sets and tuned else {}
    return {"all": score(rows), **both, **{name: score(part) for name, part in sets.items()}}


def table(result: dict[str, Any]) -> str:
    """The confusion table in Markdown: per set and family, labels, flags, right, found."""
    lines = [
        "| set | family | labelled | flags | flags right | labels found | precision % | recall % |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, part in result.items():
        for family in ("invented", "lost", "both"):
            c = part[family]
            lines.append(
                f"| {name} | {family} | {c['labels']} | {c['flags']} | {c['right']} | {c['found']} | "
                f"{c['precision'] if c['precision'] is not None else '–'} | {c['recall'] if c['recall'] is not None else '–'} |"
            )
    return "\n".join(lines)
