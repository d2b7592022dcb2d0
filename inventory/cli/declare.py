"""How a command is declared: once, with its name, help, options, and what happens on a
signal; and how it runs: settings loaded, signals and native stderr handled, errors
turned into one line and an exit code.

Exit codes: 0 ok, 1 runtime failure, 2 bad configuration or usage (or a refused
backfill), 130 after SIGINT, 141 when the reader of the output went away.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from inventory.core.errors import InventoryError, describe
from inventory.core.settings import SettingsError, load_settings
from inventory.runtime.native_stderr import native_stderr_to_log
from inventory.runtime.stopping import STOP, signal_name, stop_on_signals

logger = logging.getLogger("inventory")

# Shown once after each option's help; an option without a default shows none.
CONTEXT = {"show_default": True, "help_option_names": ["-h", "--help"], "max_content_width": 100}


@dataclass(frozen=True)
class CommandSpec:
    """What a command does on SIGTERM/SIGINT and while it runs.

    :arg stopped: what the stop line says after a signal (``stopped on SIGTERM: …``);
        None: the command does not handle signals (the default action ends it).
    :arg dataflow: it runs a Bytewax dataflow: native stderr (Rust panics, librdkafka)
        goes to the log.
    """

    stopped: str | None = None
    dataflow: bool = False


def command(
    name: str,
    summary: str,
    *,
    details: str = "",
    stopped: str | None = None,
    dataflow: bool = False,
) -> Callable[[Callable[..., int]], click.Command]:
    """Declare command ``name``: ``summary`` is its one-line help (``details`` follows it
    in the command's own help); the options are ``click.option`` decorators below this
    one; the function takes the settings and the options (keywords) and returns the exit
    code. See :class:`CommandSpec` for ``stopped`` and ``dataflow``."""
    spec = CommandSpec(stopped, dataflow)

    def declare(func: Callable[..., int]) -> click.Command:
        @functools.wraps(func)
        def invoke(**options: Any) -> int:
            return run_command(func, spec, options)

        text = f"{summary}\n\n{details}" if details else summary
        cmd = click.command(name, help=text, short_help=summary, context_settings=CONTEXT)(invoke)
        cmd.spec = spec  # type: ignore[attr-defined]
        return cmd

    return declare


def run_command(func: Callable[..., int], spec: CommandSpec, options: dict[str, Any]) -> int:
    """Run one command: settings, signals, native stderr, and its errors as one line."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with contextlib.ExitStack() as stack:
        if spec.stopped is not None:
            stack.enter_context(stop_on_signals(STOP))
        if spec.dataflow:
            stack.enter_context(native_stderr_to_log())
        try:
            code = func(settings, **options)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:  # `inventory generate --stdout | head`: the reader is done
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 141
        except InventoryError as exc:  # the project's own errors carry their exit code
            logger.debug("command failed", exc_info=True)
            print(f"error: {exc}", file=sys.stderr)
            return exc.exit_code
        except Exception as exc:
            logger.debug("command failed", exc_info=True)
            print(f"error: {describe(exc)}", file=sys.stderr)
            return 1
    if spec.stopped is not None and STOP.requested:
        print(f"stopped on {signal_name(STOP.signal)}: {spec.stopped}", file=sys.stderr)
        return STOP.exit_code
    return code


def fail(message: str, code: int = 2) -> int:
    """Print ``error: message`` on stderr; return ``code``."""
    print(f"error: {message}", file=sys.stderr)
    return code
