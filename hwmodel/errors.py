"""The error base class of :mod:`hwmodel`: every hardware-side error derives from it, so a
command-line entry point catches one class and prints its one-line message (exit status 2)."""

from __future__ import annotations

from pnsutil.errors import PnsError


class HwmodelError(PnsError):
    """Bad input to the hardware models; the message names the thing and the fix."""
