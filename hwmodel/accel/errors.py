"""Errors of the accelerator back-end."""

from __future__ import annotations

from hwmodel.errors import HwmodelError


class AccelError(HwmodelError):
    """Bad architecture, topology or mapping input; one line naming the field and the fix."""
