"""The article pipeline, usable without any transport: text → paragraphs → sentences → batches
within the model's budget → reassembly → summary, with the checks of the English (numbers,
names, meaning, confidence) and the name repair. `Pipeline` (pipeline.py) is the facade; the
stages are translation.py and summary.py; ArticleOptions (options.py) is the request record
taken whole down to the stages; results.py the records it gives back. It runs the models of
models/ and uses text/; it knows nothing of the service or the front ends above it."""

from khulasa_server.pipeline.pipeline import Pipeline

__all__ = ["Pipeline"]
