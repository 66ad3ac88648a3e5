"""An explicit ``pipeline()`` block: its steps run in order (one branch of a multicast)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.model import Pipeline


def compile_pipeline(node: Pipeline, ctx: CompileContext) -> Any:
    return ctx.compile_steps(node.steps)
