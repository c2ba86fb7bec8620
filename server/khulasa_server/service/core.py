"""The operations every front end offers, with their checks: an adapter (grpc servicer, HTTP
routes, khulasa-bulk) maps its request to one of these calls and the result or the error back.
Adding an operation is one method here plus one line per adapter (CONTRIBUTING.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from khulasa_server.errors import Unavailable
from khulasa_server.pipeline.options import ArticleOptions
from khulasa_server.pipeline.results import DigestResult, Done, ParagraphResult, SummaryResult, TranslationResult
from khulasa_server.service import inputs
from khulasa_server.service.calls import Call, request_id
from khulasa_server.service.inflight import InFlight
from khulasa_server.text.detect import detect
from khulasa_server.text.normalize import normalize

if TYPE_CHECKING:
    from khulasa_server.pipeline.pipeline import Pipeline
    from khulasa_server.service.config import Settings


class Tokens(Protocol):  # grpc/security.py TokenAuth is one
    def match(self, token: str) -> str | None: ...


class Core:
    """The loaded pipeline (None until `serve`), the limits (config.Settings), the token file
    and the calls in flight per client, which every front end of the process shares."""

    def __init__(self, settings: Settings, tokens: Tokens | None = None):
        self.settings = settings
        self.tokens = tokens
        self.in_flight = InFlight(settings.max_inflight_per_client)
        self.pipeline: Pipeline | None = None
        self.runtime_info: dict[str, str] = {}  # where the models run: device, compute_type

    def serve(self, pipeline: Pipeline, runtime_info: Mapping[str, str]) -> None:
        self.runtime_info = dict(runtime_info)
        self.pipeline = pipeline

    @property
    def loaded(self) -> bool:
        return self.pipeline is not None

    def ready(self) -> Pipeline:
        """The loaded pipeline, or Unavailable while the models load."""
        if self.pipeline is None:
            raise Unavailable("models are still loading; retry shortly (health reports SERVING when ready)")
        return self.pipeline

    # -- who is calling ------------------------------------------------------------------

    def identify(self, token: str) -> str | None:
        """ "token:<hash>" of the token matched, or None (also when the server has no tokens)."""
        if self.tokens is None or not token:
            return None
        return self.tokens.match(token)

    def allows(self, token: str) -> bool:
        return self.tokens is None or self.identify(token) is not None

    def call(
        self,
        front: str,
        rpc: str,
        asked_id: object = None,
        timeout: float | None = None,
        is_active: Callable[[], bool] | None = None,
    ) -> Call:
        """A call of operation `rpc` through `front` ("grpc", "http", "bulk"), begun now, under
        the caller's request id when plausible (`asked_id`), with its deadline and liveness."""
        return Call(self.in_flight, front, rpc, request_id(asked_id), timeout, is_active)

    # -- operations ----------------------------------------------------------------------

    def translate(
        self, texts: Sequence[str], options: ArticleOptions, fields: Sequence[str] | None = None
    ) -> list[TranslationResult]:
        """`fields`: how refusals name each text, where a front end calls them otherwise than
        texts[i] (LibreTranslate's q)."""
        inputs.texts(texts, self.settings, fields)
        options = options.within(self.settings)
        return self.ready().translate(list(texts), options, list(fields) if fields else None)

    def languages(self) -> tuple[tuple[str, ...], str]:
        """The languages a text may be in, and the language translations are in."""
        pipeline = self.ready()
        return pipeline.languages, pipeline.bundle.target_language

    def check_texts(self, texts: Sequence[str], fields: Sequence[str]) -> None:
        """The checks Translate makes of its texts, for a caller that sends them otherwise
        (LibreTranslate's format=html sends a page's text nodes)."""
        inputs.texts(texts, self.settings, fields)

    def languages_of(self, texts: Sequence[str], requested: str, fields: Sequence[str]) -> list[tuple[str, str]]:
        """Each text normalized, with the language it is taken as: `requested` when served,
        else detected ("und" without letters); a refusal names the text's field."""
        pipeline = self.ready()
        code = pipeline.requested(requested)
        seen = [normalize(text) for text in texts]
        return [(text, pipeline.language(text, code, field)) for text, field in zip(seen, fields)]

    def detect(self, text: str, field: str = "text") -> tuple[str, str]:
        """The text normalized and its detected language: ar, en, fa, latn, other, or und."""
        inputs.text(text, field, self.settings)
        normalized = normalize(text)
        return normalized, detect(normalized)

    def summarize(self, text: str, options: ArticleOptions) -> SummaryResult:
        options = self._article(text, options)
        return self.ready().summarize(text, options)

    def digest(self, text: str, options: ArticleOptions) -> DigestResult:
        options = self._article(text, options)
        return self.ready().digest(text, options)

    def stream_digest(self, text: str, options: ArticleOptions) -> Iterator[ParagraphResult | SummaryResult | Done]:
        """The checks now; the paragraphs, the summary and Done as the caller iterates."""
        options = self._article(text, options)
        return self.ready().iter_digest(text, options)

    def model_info(self) -> tuple[Pipeline, Settings, dict[str, str]]:
        """What GetModelInfo describes: the bundle (through the pipeline), the limits, the device."""
        return self.ready(), self.settings, self.runtime_info

    def _article(self, text: str, options: ArticleOptions) -> ArticleOptions:
        inputs.text(text, "text", self.settings)
        return options.within(self.settings)
