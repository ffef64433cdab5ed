"""How the behaviour functions are compiled into the vectorized engine's kernels.

``inlined`` marks a plain-Python function (a rule, a phase) as callable from numba-compiled code and
inlined there at numba's IR level, so a kernel's loop runs one flat body instead of calling a function per
agent with every array of the step as arguments. Called from Python, the function is itself: the agent
engine runs it as written.
"""

from __future__ import annotations

from collections.abc import Callable

from numba.extending import overload


def inlined[F: Callable](fn: F) -> F:
    """``fn`` unchanged for Python; for numba, an overload that inlines its body where it is called."""

    def implementation(*args, **kwargs):
        return fn

    overload(fn, inline="always", strict=False)(implementation)
    return fn
