"""A recorded history of generated events (JSON lines) for the backfill tests, with its
messages for the model."""

from __future__ import annotations

import io
from pathlib import Path

from generators.events import EventGenerator, GeneratorConfig
from generators.publish import write_jsonl
from tests.support.model import Msg

CONFIG = GeneratorConfig(
    seed=9,
    skus=30,
    warehouses=2,
    rate=50.0,
    malformed_share=0.02,
    duplicate_share=0.02,
    late_share=0.03,
    late_max_seconds=900,
)


def history(tmp_path: Path, count: int) -> tuple[Path, list[Msg]]:
    buffer = io.StringIO()
    write_jsonl(EventGenerator(CONFIG).messages(count), buffer)
    path = tmp_path / "history.jsonl"
    path.write_text(buffer.getvalue() + "\n")  # a trailing blank line is ignored
    mtime = int(path.stat().st_mtime * 1000)
    msgs = [
        Msg(None, line.encode(), 0, n, mtime)
        for n, line in enumerate(buffer.getvalue().splitlines())
    ]
    return path, msgs
