"""Exceptions of the SRAM/DRAM/memory models (the CLI prints them as one line)."""

from hwmodel.errors import HwmodelError


class SramInputError(HwmodelError):
    """Bad input to a memory model; the message names the parameter and the fix."""


class CactiUnavailableError(HwmodelError, RuntimeError):
    """CACTI could not be downloaded, built or run; the analytical model still works."""
