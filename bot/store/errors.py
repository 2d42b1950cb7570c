"""Errors shared by the stores."""

from __future__ import annotations

__all__ = ["ConflictError"]


class ConflictError(RuntimeError):
    """The record changed since the caller read it; reload and apply the change again."""
