"""The command line's help (every option described, defaults shown once) and its progress line."""

from __future__ import annotations

import threading

import click

from inventory.app.progress import FlowProgress, Periodic
from inventory.cli.main import inventory


def help_of(command: click.Command) -> str:
    """What ``inventory COMMAND --help`` prints."""
    with click.Context(command, info_name=command.name, **command.context_settings) as ctx:
        return command.get_help(ctx)


def test_every_option_has_help_and_defaults_are_shown_once() -> None:
    commands = [inventory, *inventory.commands.values()]
    assert {c.name for c in commands} >= {"inventory", "run", "generate", "sql", "settings"}
    for command in commands:
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{command.name} {param.name} has no help"
        text = help_of(command)
        assert "``" not in text and ":class:" not in text, command.name
        assert "default: None" not in text and "(default:" not in text, command.name
        for line in text.split("\n  -"):
            assert line.count("[default:") <= 1, (command.name, line)
    generate = " ".join(help_of(inventory.commands["generate"]).split())
    assert "[default: 10000]" in generate and "[default: 100]" in generate
    assert "[default: (a new stream each run)]" in generate


def test_progress_lines_report_rate_lag_duplicates_and_rows() -> None:
    lines: list[str] = []
    ticked = threading.Event()

    def emit(line: str) -> None:
        lines.append(line)
        ticked.set()

    progress = FlowProgress({"events": 1200, "stock_levels": 30})
    with Periodic(progress.line, emit, every=0.05):
        assert ticked.wait(10)
    assert lines[-1].startswith("progress: ") and "messages/s read" in lines[-1]
    assert "lag " in lines[-1] and "duplicates dropped" in lines[-1]
    assert "rows events=1,200, stock_levels=30" in lines[-1]
