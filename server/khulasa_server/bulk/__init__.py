"""`khulasa-bulk`: digest an archive of articles on Ray Data, the pipeline called as a library
(no gRPC hop).

    sources.py   INPUT paths → a Ray Datasource of (id, text, error) rows, read in streaming blocks
    digester.py  the actor class: loads the bundle once, digests a batch of rows → output rows
    sink.py      output parts written atomically, one per block; resume reads their ids
    cli.py       the command: flags, Ray (local or a cluster), the final line, exit codes

Output: a directory of `part-<hash>.parquet` (or `.jsonl`) files and `_manifest.json`. A part
is written under a temporary name and renamed when complete, so a part that exists is whole;
a rerun reads the ids of the parts there and skips them. The parts together hold exactly one
row per input id.
"""

FORMATS = ("parquet", "jsonl")


class UsageError(ValueError):
    """An operator's mistake (a bad INPUT, --output, --bundle or flag): one line, exit 2."""
