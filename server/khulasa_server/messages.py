"""Pipeline results → protobuf messages."""

from __future__ import annotations

from khulasa.v1 import khulasa_pb2 as pb

from khulasa_server import __version__
from khulasa_server.pipeline import results as r


def segment(s: r.Segment) -> pb.Segment:
    return pb.Segment(
        source=s.source,
        translation=s.translation,
        score=s.score,
        paragraph=s.paragraph,
        warnings=s.warnings,
        confidence=s.confidence,
        unsure=[pb.Span(start=a, end=b, log_prob=lp) for a, b, lp in s.unsure],
    )


def paragraph(p: r.ParagraphResult) -> pb.Paragraph:
    return pb.Paragraph(index=p.index, source=p.source, translation=p.translation, segments=[segment(s) for s in p.segments])


def summary_sentences(summary: r.SummaryResult) -> list[pb.SummarySentence]:
    return [pb.SummarySentence(text=s.text, paragraphs=s.paragraphs, warnings=s.warnings) for s in summary.sentences]


def timings(t: r.Timings) -> pb.Timings:
    return pb.Timings(
        total_ms=t.total_ms,
        translate_ms=t.translate_ms,
        summarize_ms=t.summarize_ms,
        source_tokens=t.source_tokens,
        target_tokens=t.target_tokens,
        checks_ms=t.checks_ms,
    )


def translation(t: r.TranslationResult) -> pb.Translation:
    return pb.Translation(text=t.text, detected_language=t.detected_language, segments=[segment(s) for s in t.segments])


def translations(results: list[r.TranslationResult]) -> pb.TranslateResponse:
    return pb.TranslateResponse(translations=[translation(t) for t in results])


def summary(result: r.SummaryResult) -> pb.SummarizeResponse:
    return pb.SummarizeResponse(
        summary=result.text, sentences=summary_sentences(result), detected_language=result.detected_language
    )


def digest(request_id: str, d: r.DigestResult) -> pb.DigestResponse:
    return pb.DigestResponse(
        id=request_id,
        translation=d.translation,
        summary=d.summary.text,
        paragraphs=[paragraph(p) for p in d.paragraphs],
        summary_sentences=summary_sentences(d.summary),
        timings=timings(d.timings),
        detected_language=d.detected_language,
    )


def event(request_id: str, e: r.ParagraphResult | r.SummaryResult | r.Done) -> pb.DigestEvent:
    if isinstance(e, r.ParagraphResult):
        return pb.DigestEvent(paragraph=paragraph(e))
    if isinstance(e, r.SummaryResult):
        return pb.DigestEvent(summary=pb.Summary(text=e.text, sentences=summary_sentences(e)))
    return pb.DigestEvent(done=pb.DigestDone(id=request_id, detected_language=e.detected_language, timings=timings(e.timings)))


def model_info(pipeline, limits, runtime_info: dict[str, str]) -> pb.ModelInfo:
    """What GetModelInfo answers: the bundle's models and languages, the server's limits
    (config.Settings) and where the models run."""
    b = pipeline.bundle
    models = [
        pb.ModelDescription(
            name=name,
            roles=[role for role, model in b.roles.items() if model == name],
            family=entry.family,
            engine=entry.engine,
            quantization=entry.quantization,
            source=entry.source,
            license=entry.license,
            max_input_tokens=entry.max_input_tokens,
        )
        for name, entry in b.models.items()
    ]
    return pb.ModelInfo(
        bundle_name=b.name,
        bundle_version=b.version,
        models=models,
        source_languages=list(pipeline.languages),
        target_language=b.target_language,
        limits=pb.Limits(
            max_text_chars=limits.max_text_chars,
            max_texts=limits.max_texts,
            max_message_bytes=limits.max_message_bytes,
            max_summary_sentences=limits.max_summary_sentences,
        ),
        device=runtime_info.get("device", ""),
        compute_type=runtime_info.get("compute_type", ""),
        default_summary_method=b.summary_method,
        server_version=__version__,
    )
