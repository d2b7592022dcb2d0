"""The project's error root, and errors as the commands report them: one line, the cause.

Every error the project raises on purpose is an :class:`InventoryError`; its
``exit_code`` is what the command line exits with (1: a runtime failure, 2: bad
configuration or usage). Anything else that escapes is a bug or a library's failure and
exits 1 with its root cause.
"""

from __future__ import annotations


class InventoryError(Exception):
    """Root of the project's errors; ``exit_code`` is the CLI's exit status for it."""

    exit_code = 1


class ConfigurationError(InventoryError):
    """Bad configuration or usage; the message names the setting or option (exit 2)."""

    exit_code = 2


class ClusterError(InventoryError):
    """A process of the cluster failed or became unreachable; the cluster stopped and a
    restart resumes from the snapshots (exit 1)."""


def describe(exc: BaseException) -> str:
    """The root cause of an error (Bytewax wraps a step's exception in its own)."""
    chain = [exc]
    while chain[-1].__cause__ is not None and len(chain) < 10:
        chain.append(chain[-1].__cause__)
    root = chain[-1]
    if root is exc:
        return f"{type(root).__name__}: {first_line(root)}"
    outer, inner = first_line(exc), first_line(root)
    if inner in outer or outer in inner:  # a wrapper repeating its cause: say it once
        return max(outer, inner, key=len)
    if type(exc).__name__ == "BytewaxRuntimeError":
        return f"{type(root).__name__}: {first_line(root)} (in the dataflow: {first_line(exc)})"
    return f"{first_line(exc)} ({type(root).__name__}: {first_line(root)})"


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
