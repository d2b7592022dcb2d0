"""Errors as the commands report them: one line, the root cause."""

from __future__ import annotations


def describe(exc: BaseException) -> str:
    """The root cause of an error (Bytewax wraps a step's exception in its own)."""
    chain = [exc]
    while chain[-1].__cause__ is not None and len(chain) < 10:
        chain.append(chain[-1].__cause__)
    root = chain[-1]
    if root is exc:
        return f"{type(root).__name__}: {first_line(root)}"
    if type(exc).__name__ == "BytewaxRuntimeError":
        return f"{type(root).__name__}: {first_line(root)} (in the dataflow: {first_line(exc)})"
    return f"{first_line(exc)} ({type(root).__name__}: {first_line(root)})"


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
