"""The handshake every unit shares: one definition for the harness, netlists and testbenches.

``clk``, ``rst`` (asynchronous, active high), ``in_valid``, the operands ``a`` and ``b``;
``out_valid`` and the result ``y``. Control ports and ``out_valid`` are 1 bit wide. A unit may have
further inputs (e.g. a MAC's ``acc_clr``), which the harness drives like the operands.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Handshake:
    """Port names of the handshake (see the module docstring)."""

    clk: str = "clk"
    rst: str = "rst"
    in_valid: str = "in_valid"
    operands: tuple[str, str] = ("a", "b")
    out_valid: str = "out_valid"
    result: str = "y"

    @property
    def control(self) -> tuple[str, ...]:
        """Inputs that are not data: clock, reset, input valid."""
        return (self.clk, self.rst, self.in_valid)

    @property
    def inputs(self) -> tuple[str, ...]:
        return (*self.control, *self.operands)

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.out_valid, self.result)

    @property
    def one_bit(self) -> tuple[str, ...]:
        """Ports that must be exactly 1 bit wide."""
        return (*self.control, self.out_valid)

    def describe(self) -> str:
        """The port list as prose, for error messages."""
        return ", ".join((*self.inputs, *self.outputs))


HANDSHAKE = Handshake()
