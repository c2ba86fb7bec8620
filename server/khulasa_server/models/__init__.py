"""The models: a bundle on disk (bundle.py) and its typed manifest (schema.py), the engines that
call CTranslate2 (engines/: Translator and Generator), the tokenizers, and the scheduler that
decodes the calls of every request in flight together (scheduler.py). Nothing here knows
articles, options or checks: rows of tokens in, tokens and scores out."""
