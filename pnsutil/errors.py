"""The error base class of the project: bad input, told in one line that names the thing and the
fix. Each package derives its own base from it (``learning.errors.LearningError``,
``hwmodel.errors.HwmodelError``, ``workload.errors.WorkloadError``), and every command-line entry
point catches its package's base and prints ``<prog>: error: <message>`` with exit status 2."""

from __future__ import annotations


class PnsError(ValueError):
    """Bad input; the message is one line naming the thing and the fix."""
