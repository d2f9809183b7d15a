"""The learning side's one exception type: bad input that the CLI reports as a one-line error."""

from __future__ import annotations

from pnsutil.errors import PnsError


class LearningError(PnsError):
    """Bad input to the learning side (unknown dataset/model, bad split, bad checkpoint, ...).

    The message is one line naming the thing and the fix; ``python -m learning`` prints it as
    ``learning run: error: <message>`` and exits non-zero.
    """
