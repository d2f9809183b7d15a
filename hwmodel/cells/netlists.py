"""Transistor-level netlists of the pns45 standard cells, their sizing rules and area rule.

Sizing rules (stated here, applied by :func:`_gate` to every static CMOS stage):

* Unit devices: NMOS width ``WN_UNIT_UM`` = 0.20 um, PMOS width = ``PN_RATIO`` x NMOS = 0.30 um,
  drawn length ``L_UM`` = 50 nm (the FreePDK45 minimum drawn gate length). P/N = 1.5 makes the
  FreePDK45 nominal-corner inverter's rise and fall delays equal within ~5 % (measured in a FO4
  chain with ngspice: tpHL 13.8 ps, tpLH 14.5 ps), i.e. it compensates the lower hole mobility
  under velocity saturation.
* Stack up-sizing: every transistor in a series stack of depth k gets k x the unit width, so each
  pull-up / pull-down path has the drive of one unit device (logical-effort sizing). For nested
  series/parallel networks the rule is applied recursively (see :func:`_assign_widths`).
* Drive strength Xn multiplies all widths of the output stage by n (X2 = 2x).

Area rule (layout-pitch model, not a drawn layout): a cell is ``columns`` placement sites wide,
with ``columns = max(sum of NMOS fingers, sum of PMOS fingers) + 1`` (one gate column per finger
plus one column of diffusion/contact overhead), and a finger holds at most ``WN_FINGER_MAX_UM``
(NMOS) or ``WP_FINGER_MAX_UM`` (PMOS) of width. The site is 0.19 um x 1.4 um.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# FreePDK45 minimum drawn gate length 50 nm (NCSU FreePDK45 design rules, rule POLY.1).
L_UM = 0.050
# Unit NMOS width: chosen for X1 cells; FreePDK45 minimum active width is 90 nm (rule ACTIVE.1).
WN_UNIT_UM = 0.20
# P/N width ratio, see module docstring (balanced FO4 rise/fall on the nominal corner).
PN_RATIO = 1.5
# Source/drain diffusion length per device: our rule, ~one contacted-diffusion width (a 65 nm
# contact plus enclosure, rounded up). Used for AD/AS/PD/PS (junction capacitance). No diffusion
# sharing is assumed, which is conservative (overestimates junction capacitance).
L_DIFF_UM = 0.09
# Placement site: contacted poly pitch 0.19 um = 50 nm poly width + 140 nm poly spacing
# (NCSU FreePDK45 rules POLY.1 and POLY.2, eda.ncsu.edu/wiki/FreePDK45:PolyRules) and a 1.4 um
# row height (our rule; it equals the row height of the FreePDK45-based Nangate Open Cell Library).
SITE_W_UM = 0.19
ROW_H_UM = 1.40
# Largest finger that fits the N / P halves of the 1.4 um row (our rule, after rails and gap).
WN_FINGER_MAX_UM = 0.45
WP_FINGER_MAX_UM = 0.65

NMOS_MODEL = "NMOS_VTG"  # FreePDK45 standard-Vt BSIM4 models (freepdk45_<corner>.spi)
PMOS_MODEL = "PMOS_VTG"

VDD_NODE = "vdd"
VSS_NODE = "vss"


@dataclass(frozen=True)
class Mos:
    """One MOSFET: kind 'n' or 'p', terminals, width in um (length is ``L_UM``)."""

    name: str
    kind: str
    drain: str
    gate: str
    source: str
    w_um: float

    def fingers(self) -> int:
        wmax = WN_FINGER_MAX_UM if self.kind == "n" else WP_FINGER_MAX_UM
        return max(1, math.ceil(self.w_um / wmax - 1e-9))

    def spice(self) -> str:
        """SPICE instance line (body tied to the rail)."""
        bulk = VSS_NODE if self.kind == "n" else VDD_NODE
        model = NMOS_MODEL if self.kind == "n" else PMOS_MODEL
        w = self.w_um
        ad = w * L_DIFF_UM
        pd = 2 * (w + L_DIFF_UM)
        return (f"M{self.name} {self.drain} {self.gate} {self.source} {bulk} {model} "
                f"w={w:.4f}u l={L_UM:.4f}u ad={ad:.5f}p as={ad:.5f}p "
                f"pd={pd:.4f}u ps={pd:.4f}u")


@dataclass(frozen=True)
class CellNetlist:
    """A library cell: pins, Boolean functions (Liberty syntax) and its transistors."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    functions: dict[str, str]  # output pin -> Liberty function; DFF: {"Q": "IQ"}
    devices: tuple[Mos, ...]
    sequential: bool = False

    @property
    def area_um2(self) -> float:
        """Area from the stated site rule (um^2)."""
        nf = sum(m.fingers() for m in self.devices if m.kind == "n")
        pf = sum(m.fingers() for m in self.devices if m.kind == "p")
        return (max(nf, pf) + 1) * SITE_W_UM * ROW_H_UM

    @property
    def transistor_count(self) -> int:
        return len(self.devices)

    def subckt(self) -> str:
        """``.subckt NAME <inputs> <outputs> vdd vss`` text."""
        ports = " ".join([*self.inputs, *self.outputs, VDD_NODE, VSS_NODE])
        body = "\n".join(m.spice() for m in self.devices)
        return f".subckt {self.name} {ports}\n{body}\n.ends {self.name}\n"

    def evaluate(self, values: dict[str, int]) -> dict[str, int]:
        """Combinational output values for input values (0/1). Not for the DFF."""
        if self.sequential:
            raise ValueError("evaluate() is for combinational cells")
        return {o: _LOGIC[self.name.rsplit("_", 1)[0]][o](values) for o in self.outputs}


# --- series/parallel network description -------------------------------------------------
Net = str | tuple  # "A" (a gate input) | ("s", [..]) series | ("p", [..]) parallel


def _depth(net: Net) -> int:
    """Worst-case number of series devices on a path through the network."""
    if isinstance(net, str):
        return 1
    kind, kids = net
    return sum(_depth(k) for k in kids) if kind == "s" else max(_depth(k) for k in kids)


def _assign_widths(net: Net, mult: float) -> list[tuple[str, float]]:
    """Stack up-sizing: a series group of total depth D gives child i a multiplier D/d_i."""
    if isinstance(net, str):
        return [(net, mult)]
    kind, kids = net
    out: list[tuple[str, float]] = []
    if kind == "p":
        for k in kids:
            out += _assign_widths(k, mult)
    else:
        total = _depth(net)
        for k in kids:
            out += _assign_widths(k, mult * total / _depth(k))
    return out


def _dual(net: Net) -> Net:
    if isinstance(net, str):
        return net
    kind, kids = net
    return ("p" if kind == "s" else "s", [_dual(k) for k in kids])


class _Builder:
    def __init__(self, prefix: str = "") -> None:
        self.devices: list[Mos] = []
        self._n = 0
        self._prefix = prefix

    def node(self) -> str:
        self._n += 1
        return f"{self._prefix}x{self._n}"

    def mos(self, kind: str, d: str, g: str, s: str, w: float) -> None:
        self.devices.append(Mos(f"{kind}{len(self.devices) + 1}", kind, d, g, s, w))

    def network(self, net: Net, top: str, bottom: str, kind: str, widths: dict[int, float],
                counter: list[int]) -> None:
        """Instantiate ``net`` between ``top`` and ``bottom``; widths indexed by leaf order."""
        if isinstance(net, str):
            w = widths[counter[0]]
            counter[0] += 1
            self.mos(kind, top, net, bottom, w)
            return
        k, kids = net
        if k == "p":
            for kid in kids:
                self.network(kid, top, bottom, kind, widths, counter)
        else:
            nodes = [top] + [self.node() for _ in kids[:-1]] + [bottom]
            for i, kid in enumerate(kids):
                self.network(kid, nodes[i], nodes[i + 1], kind, widths, counter)

    def gate(self, pull_down: Net, out: str, drive: float = 1.0) -> None:
        """Static CMOS stage: NMOS ``pull_down`` to vss, its dual in PMOS to vdd."""
        pn = _assign_widths(pull_down, drive)
        pu_net = _dual(pull_down)
        pp = _assign_widths(pu_net, drive)
        self.network(pull_down, out, VSS_NODE, "n",
                     {i: WN_UNIT_UM * m for i, (_, m) in enumerate(pn)}, [0])
        self.network(pu_net, out, VDD_NODE, "p",
                     {i: WN_UNIT_UM * PN_RATIO * m for i, (_, m) in enumerate(pp)}, [0])

    def inv(self, a: str, y: str, drive: float = 1.0) -> None:
        self.gate(a, y, drive)

    def tgate(self, a: str, b: str, on_high: str, on_low: str) -> None:
        """Transmission gate: NMOS gated by ``on_high``, PMOS by ``on_low`` (unit widths)."""
        self.mos("n", a, on_high, b, WN_UNIT_UM)
        self.mos("p", a, on_low, b, WN_UNIT_UM * PN_RATIO)


_LOGIC = {
    "INV": {"Y": lambda v: 1 - v["A"]},
    "BUF": {"Y": lambda v: v["A"]},
    "NAND2": {"Y": lambda v: 1 - (v["A"] & v["B"])},
    "NOR2": {"Y": lambda v: 1 - (v["A"] | v["B"])},
    "NAND3": {"Y": lambda v: 1 - (v["A"] & v["B"] & v["C"])},
    "NOR3": {"Y": lambda v: 1 - (v["A"] | v["B"] | v["C"])},
    "AND2": {"Y": lambda v: v["A"] & v["B"]},
    "OR2": {"Y": lambda v: v["A"] | v["B"]},
    "XOR2": {"Y": lambda v: v["A"] ^ v["B"]},
    "XNOR2": {"Y": lambda v: 1 - (v["A"] ^ v["B"])},
    "AOI21": {"Y": lambda v: 1 - ((v["A"] & v["B"]) | v["C"])},
    "OAI21": {"Y": lambda v: 1 - ((v["A"] | v["B"]) & v["C"])},
    "MUX2": {"Y": lambda v: v["B"] if v["S"] else v["A"]},
    "HA": {"S": lambda v: v["A"] ^ v["B"], "CO": lambda v: v["A"] & v["B"]},
    "FA": {"S": lambda v: v["A"] ^ v["B"] ^ v["CI"],
           "CO": lambda v: (v["A"] & v["B"]) | (v["CI"] & (v["A"] ^ v["B"]))},
}


def _cell(name: str, inputs: str, outputs: str, funcs: dict[str, str], b: _Builder,
          sequential: bool = False) -> CellNetlist:
    return CellNetlist(name, tuple(inputs.split()), tuple(outputs.split()), funcs,
                       tuple(b.devices), sequential)


def _basic_gates() -> list[CellNetlist]:
    """INV, BUF, NAND2, NOR2 in X1 and X2; NAND3, NOR3; AND2, OR2 (NAND/NOR + INV)."""
    cells = []
    for x in (1, 2):
        b = _Builder()
        b.inv("A", "Y", x)
        cells.append(_cell(f"INV_X{x}", "A", "Y", {"Y": "!A"}, b))
        b = _Builder()
        b.inv("A", "x0", 1)
        b.inv("x0", "Y", x)
        cells.append(_cell(f"BUF_X{x}", "A", "Y", {"Y": "A"}, b))
        b = _Builder()
        b.gate(("s", ["A", "B"]), "Y", x)
        cells.append(_cell(f"NAND2_X{x}", "A B", "Y", {"Y": "!(A&B)"}, b))
        b = _Builder()
        b.gate(("p", ["A", "B"]), "Y", x)
        cells.append(_cell(f"NOR2_X{x}", "A B", "Y", {"Y": "!(A|B)"}, b))

    b = _Builder()
    b.gate(("s", ["A", "B", "C"]), "Y")
    cells.append(_cell("NAND3_X1", "A B C", "Y", {"Y": "!(A&B&C)"}, b))
    b = _Builder()
    b.gate(("p", ["A", "B", "C"]), "Y")
    cells.append(_cell("NOR3_X1", "A B C", "Y", {"Y": "!(A|B|C)"}, b))

    b = _Builder()
    b.gate(("s", ["A", "B"]), "x0")
    b.inv("x0", "Y")
    cells.append(_cell("AND2_X1", "A B", "Y", {"Y": "(A&B)"}, b))
    b = _Builder()
    b.gate(("p", ["A", "B"]), "x0")
    b.inv("x0", "Y")
    cells.append(_cell("OR2_X1", "A B", "Y", {"Y": "(A|B)"}, b))
    return cells


def _complex_gates() -> list[CellNetlist]:
    """XOR2, XNOR2 (AOI22 with inverted inputs), AOI21, OAI21, MUX2."""
    cells = []
    # XOR2 = AOI22(A, B, !A, !B): Y = !(A&B | !A&!B); XNOR2 = AOI22(A, !B, !A, B).
    b = _Builder()
    b.inv("A", "an")
    b.inv("B", "bn")
    b.gate(("p", [("s", ["A", "B"]), ("s", ["an", "bn"])]), "Y")
    cells.append(_cell("XOR2_X1", "A B", "Y", {"Y": "(A^B)"}, b))
    b = _Builder()
    b.inv("A", "an")
    b.inv("B", "bn")
    b.gate(("p", [("s", ["A", "bn"]), ("s", ["an", "B"])]), "Y")
    cells.append(_cell("XNOR2_X1", "A B", "Y", {"Y": "!(A^B)"}, b))

    b = _Builder()
    b.gate(("p", [("s", ["A", "B"]), "C"]), "Y")
    cells.append(_cell("AOI21_X1", "A B C", "Y", {"Y": "!((A&B)|C)"}, b))
    b = _Builder()
    b.gate(("s", [("p", ["A", "B"]), "C"]), "Y")
    cells.append(_cell("OAI21_X1", "A B C", "Y", {"Y": "!((A|B)&C)"}, b))

    # MUX2: x0 = AOI22(A, !S, B, S) = !(S ? B : A); Y = !x0.
    b = _Builder()
    b.inv("S", "sn")
    b.gate(("p", [("s", ["A", "sn"]), ("s", ["B", "S"])]), "x0")
    b.inv("x0", "Y")
    cells.append(_cell("MUX2_X1", "A B S", "Y", {"Y": "((S&B)|(!S&A))"}, b))
    return cells


def _adders() -> list[CellNetlist]:
    """HA (XOR2 structure + AND2) and the 28-transistor mirror FA."""
    # HA: S = XOR2 structure, CO = INV(NAND2).
    b = _Builder()
    b.inv("A", "an")
    b.inv("B", "bn")
    b.gate(("p", [("s", ["A", "B"]), ("s", ["an", "bn"])]), "S")
    b.gate(("s", ["A", "B"]), "con")
    b.inv("con", "CO")
    ha = _cell("HA_X1", "A B", "S CO", {"S": "(A^B)", "CO": "(A&B)"}, b)

    # FA: 28-transistor mirror-style adder with complementary networks.
    # con = !(A&B | CI&(A|B)) = !CO ; sn = !(A&B&CI | (A|B|CI)&con) = !S.
    b = _Builder()
    b.gate(("p", [("s", ["A", "B"]), ("s", ["CI", ("p", ["A", "B"])])]), "con")
    b.gate(("p", [("s", ["A", "B", "CI"]), ("s", [("p", ["A", "B", "CI"]), "con"])]), "sn")
    b.inv("sn", "S")
    b.inv("con", "CO")
    fa = _cell("FA_X1", "A B CI", "S CO", {"S": "(A^B^CI)", "CO": "((A&B)|(CI&(A^B)))"}, b)
    return [ha, fa]


def _build_all() -> dict[str, CellNetlist]:
    cells = [*_basic_gates(), *_complex_gates(), *_adders(), _dffr()]
    return {c.name: c for c in cells}


def _dffr() -> CellNetlist:
    """Master-slave transmission-gate DFF, positive edge, asynchronous active-high clear R.

    Input buffers: dn = !D, ckn = !CK, ckp = !ckn, rn = !R.
    Master (transparent while CK=0): dn -TG1-> m1, m2 = NOR(m1, R) (= D), keeper
    m2 -> INV -> m3 -TG2 (on CK=1)-> m1. Slave (transparent while CK=1): m2 -TG3-> s1 (= D),
    s2 = NAND(s1, rn) (= !D), keeper s2 -> INV -> s3 -TG4 (on CK=0)-> s1, Q = INV(s2).
    R=1 forces m2 = 0 and s2 = 1, so Q = 0 whatever CK does, and both latches hold 0 after R.
    """
    b = _Builder()
    b.inv("D", "dn")
    b.inv("CK", "ckn")
    b.inv("ckn", "ckp")
    b.inv("R", "rn")
    b.tgate("dn", "m1", on_high="ckn", on_low="ckp")
    b.gate(("p", ["m1", "R"]), "m2")
    b.inv("m2", "m3")
    b.tgate("m3", "m1", on_high="ckp", on_low="ckn")
    b.tgate("m2", "s1", on_high="ckp", on_low="ckn")
    b.gate(("s", ["s1", "rn"]), "s2")
    b.inv("s2", "s3")
    b.tgate("s3", "s1", on_high="ckn", on_low="ckp")
    b.inv("s2", "Q")
    return CellNetlist("DFFR_X1", ("D", "CK", "R"), ("Q",), {"Q": "IQ"}, tuple(b.devices),
                       sequential=True)


#: The flip-flop's pins by role, as the attributes of its Liberty ``ff (IQ, IQN)`` group.
DFF_PINS = {"next_state": "D", "clocked_on": "CK", "clear": "R"}


CELLS: dict[str, CellNetlist] = _build_all()
CELL_NAMES: tuple[str, ...] = tuple(CELLS)


def get_cell(name: str) -> CellNetlist:
    """The netlist of ``name``; unknown names raise :class:`CellLibraryError`."""
    from .errors import CellLibraryError

    try:
        return CELLS[name]
    except KeyError:
        raise CellLibraryError(
            f"unknown cell {name!r}; choose from {', '.join(CELL_NAMES)}") from None
