"""The gRPC servicer's request checks, called by the HTTP endpoints, so that both front ends
answer the same input with the same status and message. (Only checks that need no bundle;
languages, summary methods and glossaries are checked by the pipeline for both.)"""

from __future__ import annotations

from khulasa.v1 import khulasa_pb2 as pb

from .front import Front


def check_text(front: Front, text: str, field: str) -> None:
    front.service._check_text(text, field)


def check_translate(front: Front, request: pb.TranslateRequest) -> None:
    front.service._check_texts(request.texts)


def max_sentences(front: Front, value: int) -> int:
    return front.service._max_sentences(value)
