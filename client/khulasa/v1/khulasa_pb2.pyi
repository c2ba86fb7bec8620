from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TranslateRequest(_message.Message):
    __slots__ = ("texts", "source_language", "glossary")
    class GlossaryEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    GLOSSARY_FIELD_NUMBER: _ClassVar[int]
    texts: _containers.RepeatedScalarFieldContainer[str]
    source_language: str
    glossary: _containers.ScalarMap[str, str]
    def __init__(self, texts: _Optional[_Iterable[str]] = ..., source_language: _Optional[str] = ..., glossary: _Optional[_Mapping[str, str]] = ...) -> None: ...

class TranslateResponse(_message.Message):
    __slots__ = ("translations",)
    TRANSLATIONS_FIELD_NUMBER: _ClassVar[int]
    translations: _containers.RepeatedCompositeFieldContainer[Translation]
    def __init__(self, translations: _Optional[_Iterable[_Union[Translation, _Mapping]]] = ...) -> None: ...

class Translation(_message.Message):
    __slots__ = ("text", "detected_language", "segments")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    DETECTED_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    text: str
    detected_language: str
    segments: _containers.RepeatedCompositeFieldContainer[Segment]
    def __init__(self, text: _Optional[str] = ..., detected_language: _Optional[str] = ..., segments: _Optional[_Iterable[_Union[Segment, _Mapping]]] = ...) -> None: ...

class Segment(_message.Message):
    __slots__ = ("source", "translation", "score", "paragraph", "warnings", "confidence", "unsure")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TRANSLATION_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    PARAGRAPH_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    UNSURE_FIELD_NUMBER: _ClassVar[int]
    source: str
    translation: str
    score: float
    paragraph: int
    warnings: _containers.RepeatedScalarFieldContainer[str]
    confidence: float
    unsure: _containers.RepeatedCompositeFieldContainer[Span]
    def __init__(self, source: _Optional[str] = ..., translation: _Optional[str] = ..., score: _Optional[float] = ..., paragraph: _Optional[int] = ..., warnings: _Optional[_Iterable[str]] = ..., confidence: _Optional[float] = ..., unsure: _Optional[_Iterable[_Union[Span, _Mapping]]] = ...) -> None: ...

class Span(_message.Message):
    __slots__ = ("start", "end", "log_prob")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    LOG_PROB_FIELD_NUMBER: _ClassVar[int]
    start: int
    end: int
    log_prob: float
    def __init__(self, start: _Optional[int] = ..., end: _Optional[int] = ..., log_prob: _Optional[float] = ...) -> None: ...

class SummarizeRequest(_message.Message):
    __slots__ = ("text", "max_sentences", "source_language", "summary_method", "glossary")
    class GlossaryEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TEXT_FIELD_NUMBER: _ClassVar[int]
    MAX_SENTENCES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_METHOD_FIELD_NUMBER: _ClassVar[int]
    GLOSSARY_FIELD_NUMBER: _ClassVar[int]
    text: str
    max_sentences: int
    source_language: str
    summary_method: str
    glossary: _containers.ScalarMap[str, str]
    def __init__(self, text: _Optional[str] = ..., max_sentences: _Optional[int] = ..., source_language: _Optional[str] = ..., summary_method: _Optional[str] = ..., glossary: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SummarizeResponse(_message.Message):
    __slots__ = ("summary", "sentences", "detected_language")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    SENTENCES_FIELD_NUMBER: _ClassVar[int]
    DETECTED_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    summary: str
    sentences: _containers.RepeatedCompositeFieldContainer[SummarySentence]
    detected_language: str
    def __init__(self, summary: _Optional[str] = ..., sentences: _Optional[_Iterable[_Union[SummarySentence, _Mapping]]] = ..., detected_language: _Optional[str] = ...) -> None: ...

class SummarySentence(_message.Message):
    __slots__ = ("text", "paragraphs", "warnings")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PARAGRAPHS_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    text: str
    paragraphs: _containers.RepeatedScalarFieldContainer[int]
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, text: _Optional[str] = ..., paragraphs: _Optional[_Iterable[int]] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...

class DigestRequest(_message.Message):
    __slots__ = ("id", "text", "source_language", "max_sentences", "summary_method", "glossary")
    class GlossaryEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    MAX_SENTENCES_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_METHOD_FIELD_NUMBER: _ClassVar[int]
    GLOSSARY_FIELD_NUMBER: _ClassVar[int]
    id: str
    text: str
    source_language: str
    max_sentences: int
    summary_method: str
    glossary: _containers.ScalarMap[str, str]
    def __init__(self, id: _Optional[str] = ..., text: _Optional[str] = ..., source_language: _Optional[str] = ..., max_sentences: _Optional[int] = ..., summary_method: _Optional[str] = ..., glossary: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Paragraph(_message.Message):
    __slots__ = ("index", "source", "translation", "segments")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TRANSLATION_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    index: int
    source: str
    translation: str
    segments: _containers.RepeatedCompositeFieldContainer[Segment]
    def __init__(self, index: _Optional[int] = ..., source: _Optional[str] = ..., translation: _Optional[str] = ..., segments: _Optional[_Iterable[_Union[Segment, _Mapping]]] = ...) -> None: ...

class Timings(_message.Message):
    __slots__ = ("total_ms", "translate_ms", "summarize_ms", "source_tokens", "target_tokens", "checks_ms")
    TOTAL_MS_FIELD_NUMBER: _ClassVar[int]
    TRANSLATE_MS_FIELD_NUMBER: _ClassVar[int]
    SUMMARIZE_MS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TARGET_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CHECKS_MS_FIELD_NUMBER: _ClassVar[int]
    total_ms: float
    translate_ms: float
    summarize_ms: float
    source_tokens: int
    target_tokens: int
    checks_ms: float
    def __init__(self, total_ms: _Optional[float] = ..., translate_ms: _Optional[float] = ..., summarize_ms: _Optional[float] = ..., source_tokens: _Optional[int] = ..., target_tokens: _Optional[int] = ..., checks_ms: _Optional[float] = ...) -> None: ...

class Error(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class DigestResponse(_message.Message):
    __slots__ = ("id", "translation", "summary", "paragraphs", "summary_sentences", "timings", "detected_language", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    TRANSLATION_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    PARAGRAPHS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_SENTENCES_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    DETECTED_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: str
    translation: str
    summary: str
    paragraphs: _containers.RepeatedCompositeFieldContainer[Paragraph]
    summary_sentences: _containers.RepeatedCompositeFieldContainer[SummarySentence]
    timings: Timings
    detected_language: str
    error: Error
    def __init__(self, id: _Optional[str] = ..., translation: _Optional[str] = ..., summary: _Optional[str] = ..., paragraphs: _Optional[_Iterable[_Union[Paragraph, _Mapping]]] = ..., summary_sentences: _Optional[_Iterable[_Union[SummarySentence, _Mapping]]] = ..., timings: _Optional[_Union[Timings, _Mapping]] = ..., detected_language: _Optional[str] = ..., error: _Optional[_Union[Error, _Mapping]] = ...) -> None: ...

class Summary(_message.Message):
    __slots__ = ("text", "sentences")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SENTENCES_FIELD_NUMBER: _ClassVar[int]
    text: str
    sentences: _containers.RepeatedCompositeFieldContainer[SummarySentence]
    def __init__(self, text: _Optional[str] = ..., sentences: _Optional[_Iterable[_Union[SummarySentence, _Mapping]]] = ...) -> None: ...

class DigestDone(_message.Message):
    __slots__ = ("id", "detected_language", "timings")
    ID_FIELD_NUMBER: _ClassVar[int]
    DETECTED_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    id: str
    detected_language: str
    timings: Timings
    def __init__(self, id: _Optional[str] = ..., detected_language: _Optional[str] = ..., timings: _Optional[_Union[Timings, _Mapping]] = ...) -> None: ...

class DigestEvent(_message.Message):
    __slots__ = ("paragraph", "summary", "done")
    PARAGRAPH_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    paragraph: Paragraph
    summary: Summary
    done: DigestDone
    def __init__(self, paragraph: _Optional[_Union[Paragraph, _Mapping]] = ..., summary: _Optional[_Union[Summary, _Mapping]] = ..., done: _Optional[_Union[DigestDone, _Mapping]] = ...) -> None: ...

class GetModelInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ModelDescription(_message.Message):
    __slots__ = ("name", "roles", "family", "engine", "quantization", "source", "license", "max_input_tokens")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    QUANTIZATION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    LICENSE_FIELD_NUMBER: _ClassVar[int]
    MAX_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    name: str
    roles: _containers.RepeatedScalarFieldContainer[str]
    family: str
    engine: str
    quantization: str
    source: str
    license: str
    max_input_tokens: int
    def __init__(self, name: _Optional[str] = ..., roles: _Optional[_Iterable[str]] = ..., family: _Optional[str] = ..., engine: _Optional[str] = ..., quantization: _Optional[str] = ..., source: _Optional[str] = ..., license: _Optional[str] = ..., max_input_tokens: _Optional[int] = ...) -> None: ...

class Limits(_message.Message):
    __slots__ = ("max_text_chars", "max_texts", "max_message_bytes", "max_summary_sentences")
    MAX_TEXT_CHARS_FIELD_NUMBER: _ClassVar[int]
    MAX_TEXTS_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_SUMMARY_SENTENCES_FIELD_NUMBER: _ClassVar[int]
    max_text_chars: int
    max_texts: int
    max_message_bytes: int
    max_summary_sentences: int
    def __init__(self, max_text_chars: _Optional[int] = ..., max_texts: _Optional[int] = ..., max_message_bytes: _Optional[int] = ..., max_summary_sentences: _Optional[int] = ...) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("bundle_name", "bundle_version", "models", "source_languages", "target_language", "limits", "device", "compute_type", "default_summary_method", "server_version")
    BUNDLE_NAME_FIELD_NUMBER: _ClassVar[int]
    BUNDLE_VERSION_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    TARGET_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_TYPE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_SUMMARY_METHOD_FIELD_NUMBER: _ClassVar[int]
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    bundle_name: str
    bundle_version: str
    models: _containers.RepeatedCompositeFieldContainer[ModelDescription]
    source_languages: _containers.RepeatedScalarFieldContainer[str]
    target_language: str
    limits: Limits
    device: str
    compute_type: str
    default_summary_method: str
    server_version: str
    def __init__(self, bundle_name: _Optional[str] = ..., bundle_version: _Optional[str] = ..., models: _Optional[_Iterable[_Union[ModelDescription, _Mapping]]] = ..., source_languages: _Optional[_Iterable[str]] = ..., target_language: _Optional[str] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ..., device: _Optional[str] = ..., compute_type: _Optional[str] = ..., default_summary_method: _Optional[str] = ..., server_version: _Optional[str] = ...) -> None: ...
