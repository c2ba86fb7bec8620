"""Request checks shared with the gRPC servicer, so both front ends answer the same input the
same way."""

from __future__ import annotations

from khulasa.v1 import khulasa_pb2 as pb

from ..errors import InvalidArgument
from .front import Front


def check_text(front: Front, text: str, field: str) -> None:
    front.service._check_text(text, field)


def check_translate(front: Front, request: pb.TranslateRequest) -> None:
    limit = front.settings.max_texts
    if not request.texts:
        raise InvalidArgument("texts", "texts must hold at least one text")
    if len(request.texts) > limit:
        raise InvalidArgument("texts", f"texts holds {len(request.texts)} texts; the limit is {limit} (max_texts)")
    for i, text in enumerate(request.texts):
        check_text(front, text, f"texts[{i}]")


def max_sentences(front: Front, value: int) -> int:
    return front.service._max_sentences(value)
