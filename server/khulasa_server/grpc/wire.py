"""Request bytes → messages, without letting a bad message end the call in gRPC's own
"Exception deserializing request!" (INTERNAL, a traceback in the log, no log line of ours).

A message over max_message_bytes, with a string field that is not UTF-8, or that is not a
message of its type at all, becomes a `Refused` marker instead of an exception. The unary RPCs
answer it with the marker's status (INVALID_ARGUMENT naming the field, RESOURCE_EXHAUSTED
naming the limit); DigestMany answers it as one failed item and goes on.

Strict parsing is tried first; only a message that fails it is parsed again with a twin of
its type whose string fields are bytes, to find which field is bad.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from khulasa_server.errors import InvalidArgument, KhulasaError, ResourceExhausted, echo

_LENIENT_PACKAGE = "khulasa.lenient"


@dataclass(frozen=True)
class Refused:
    """A request that could not be taken; `id` is its DigestRequest id when it could be read."""

    error: KhulasaError
    id: str = ""


def deserializer(message_class: type[Message], limit: int) -> Callable[[bytes], Any]:
    """A request_deserializer for gRPC: the message, or Refused."""
    name = message_class.DESCRIPTOR.name

    def deserialize(data: bytes) -> Message | Refused:
        if len(data) > limit:
            return Refused(
                ResourceExhausted(f"the {name} is {len(data)} bytes; the limit is {limit} (max_message_bytes)"),
                _leading_id(data),
            )
        try:
            return message_class.FromString(data)
        except DecodeError:
            return _diagnose(message_class, data)

    return deserialize


def _diagnose(message_class: type[Message], data: bytes) -> Refused:
    try:
        lenient = _lenient(message_class.DESCRIPTOR.full_name).FromString(data)
    except DecodeError:
        return Refused(
            InvalidArgument("request", f"the request is not a valid {message_class.DESCRIPTOR.name} message"),
            _leading_id(data),
        )
    raw_id = getattr(lenient, "id", b"") if "id" in message_class.DESCRIPTOR.fields_by_name else b""
    item_id = raw_id.decode("utf-8", "replace") if isinstance(raw_id, bytes) else ""
    field = _bad_utf8(message_class.DESCRIPTOR, lenient, "")
    if field is None:  # strict parsing failed for another reason
        return Refused(InvalidArgument("request", f"the request is not a valid {message_class.DESCRIPTOR.name} message"), item_id)
    return Refused(InvalidArgument(field, f"{field} is not valid UTF-8"), item_id)


def _bad_utf8(descriptor, message, prefix: str) -> str | None:
    """The path of the first string field (as declared in the real type) whose bytes are not
    UTF-8, e.g. "text", "texts[2]", "glossary key 'x'"."""
    for field in descriptor.fields:
        path = prefix + field.name
        value = getattr(message, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            for n, entry in enumerate(value):
                key, item = entry.key, entry.value
                if not _utf8(key):
                    return f"{path} key {n}"
                if not _utf8(item):
                    return f"{path}['{echo(key.decode())}']"
            continue
        if field.type != FieldDescriptor.TYPE_STRING:
            continue
        if field.is_repeated:
            for n, item in enumerate(value):
                if not _utf8(item):
                    return f"{path}[{n}]"
        elif not _utf8(value):
            return path
    return None


def _utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _leading_id(data: bytes) -> str:
    """A DigestRequest's id (field 1, written first by every protobuf serializer) read from the
    head of the bytes, so an oversized item's error can still carry its id."""
    if not data or data[0] != 0x0A:
        return ""
    length, shift, pos = 0, 0, 1
    while pos < len(data) and shift < 35:
        byte = data[pos]
        length |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return data[pos : pos + min(length, 256)].decode("utf-8", "replace")
        shift += 7
    return ""


@functools.cache
def _lenient(full_name: str) -> type[Message]:
    """A twin of a message type with every string field declared as bytes (map entries become
    plain repeated entries: the wire format is the same, and bytes cannot key a map)."""
    original = descriptor_pool.Default().FindMessageTypeByName(full_name)
    proto = descriptor_pb2.FileDescriptorProto()
    original.file.CopyToProto(proto)
    package = proto.package
    proto.name = f"{_LENIENT_PACKAGE}/{proto.name}"
    proto.package = f"{_LENIENT_PACKAGE}.{package}"
    del proto.service[:]

    def loosen(message: descriptor_pb2.DescriptorProto) -> None:
        if message.options.map_entry:
            message.options.map_entry = False
        for field in message.field:
            if field.type == descriptor_pb2.FieldDescriptorProto.TYPE_STRING:
                field.type = descriptor_pb2.FieldDescriptorProto.TYPE_BYTES
            if field.type_name.startswith(f".{package}."):
                field.type_name = f".{proto.package}.{field.type_name[len(package) + 2 :]}"
        for nested in message.nested_type:
            loosen(nested)

    for message in proto.message_type:
        loosen(message)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    name = f"{proto.package}.{full_name[len(package) + 1 :]}"
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(name))
