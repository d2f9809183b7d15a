"""Vectorised analytical SRAM model in the style of CACTI (Thoziyoor et al., CACTI 5.1 TR).

Organization (searched per design point, all combinations at once with numpy):

* The bank is an array of *mats*; a mat is 2 x 2 *subarrays* of ``rows`` x ``cols`` 6T cells
  with a shared row-decoder strip between the left and right subarrays and a column-periphery
  strip (precharge, column mux, sense amplifiers, write drivers) under each subarray.
* One mat serves an access: its four subarrays each deliver ``word_bits / 4`` bits through a
  ``col_mux``:1 column multiplexer, so ``cols = col_mux * ceil(word_bits / 4)``.
* The mats are placed ``mats_x`` wide and reached by an H-tree of repeated semi-global wires
  with a gating/merging node (two gate stages) at every branching level.
* The search minimises read energy x access time^2 (CACTI's "ED^2" objective) over the
  organizations whose area is within ``AREA_SLACK`` (10 %) of the densest one, after CACTI's
  own pruning of candidates more than 50 % worse than the best in both delay and energy.
  Searched: 8..1024 rows, column mux 2..64, every power-of-two mat placement.

Circuit models (one formula each; constants in ``tech.py`` with sources):

* Gate delays: Horowitz's ramp-input model (Horowitz 1983) on RC time constants from the ITRS
  effective resistance and gate/drain capacitance.  Row decoder: two chains sized by logical
  effort (Sutherland, Sproull, Harris 1999): mat input -> predecode line (its wire over the
  mat height plus the row gates on it), and minimum NAND3 row gate -> wordline driver, whose
  last stage is capped at the pitch-matched width.
* Wordline and bitline: distributed RC (Elmore/Sakurai 0.38 RC); bitline read by a
  limited swing of ``V_sense`` with the wordline-slope correction of Wada et al. (JSSC 1992),
  as in CACTI; writes swing the bitline fully.
* Energy: C V^2 per switched node; read bitlines swing 2 V_sense on every column of the open
  wordline (CACTI 5.1 TR), the written columns swing Vdd.
* Wires between the mats and to the mat edge: repeated semi-global wires whose repeaters are
  sized for minimum energy within 30 % of the optimal delay (CACTI 6, Muralimanohar et al.
  2007, "Global_30").
* Leakage: subthreshold current of the off transistors (cell: one pull-down, one pull-up and
  one access transistor per port; periphery: half the width of every logic stage) plus gate
  leakage, at the chosen temperature.
* Area: cells plus periphery from transistor widths (a transistor of width w takes
  w x 5 F of layout, doubled for wells and routing), folded into the row/column pitch.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from hwmodel.sram import tech
from hwmodel.sram.errors import SramInputError

ROWS = 2 ** np.arange(3, 11)  # 8 .. 1024 rows per subarray
# column mux 2 .. 64: a latch sense amplifier does not fit the pitch of one column pair,
# so at least two columns share one (CACTI 7 never chooses Ndcm = 1 on the README grid)
MUX = 2 ** np.arange(1, 7)
MATS_X = 2 ** np.arange(0, 13)  # mats across the bank width

# Logical effort of the decoder gates (Sutherland, Sproull & Harris, "Logical Effort", 1999):
# NAND2 predecoder 4/3, NAND3 row gate 5/3 (used in the decoder chains below).
# Horowitz (1983) ramp model: switching threshold vs = 0.5 of the swing, b = 0.5.
HOROWITZ_VS = 0.5
HOROWITZ_B = 0.5
# Steady state of a chain of equal stages under Horowitz's model: t = x tau with the output
# rise time t / (1 - vs) driving the next stage; x solves x^2 = ln(vs)^2 + 2 b x.
HOROWITZ_X = float(HOROWITZ_B + np.sqrt(HOROWITZ_B**2 + np.log(HOROWITZ_VS) ** 2))
# Layout area of a transistor of width w: w x (1 F gate + 2 x 2 F diffusion) = 5 F x w,
# times 2 for wells, contacts and local routing (assumption, stated in the README).
TRANSISTOR_AREA_F = 5.0
LAYOUT_OVERHEAD = 2.0
# Repeaters sized for energy with at most 30 % delay penalty (CACTI 6 "Global_30").
REPEATER_DELAY_PENALTY = 0.30
# Organizations considered: area within 10 % of the densest one (assumption: on-chip buffers
# are area-constrained; CACTI's chosen organizations for the README grid are all dense).
AREA_SLACK = 0.1
# Input gate of the mat decoder: 4 x minimum inverter (assumption).
DEC_INPUT_MIN_INVERTERS = 4.0
# Sense-amp, write-driver transistor widths in F (CACTI 5.1 TR sizing table).
W_SENSE_N_F = 3.75
W_SENSE_P_F = 7.5
W_SENSE_EN_F = 5.0
W_WRITE_DRV_F = 6 * tech.W_MIN_NMOS_F


@dataclass(frozen=True)
class Repeater:
    """Repeated-wire figures per um for one node, flavour, wire class."""

    delay_s_per_um: float
    energy_j_per_um: float  # per bit transition, full swing
    nmos_width_um: float  # repeater NMOS width (PMOS is n2p times wider)
    leak_w_per_um: float
    area_um2_per_um: float


@lru_cache(maxsize=64)
def repeater(node: int, flavour: str, temp_k: float, kind: int = 1) -> Repeater:
    """Energy-optimal repeater within ``REPEATER_DELAY_PENALTY`` of the fastest (Bakoglu)."""
    d = tech.derive(node, flavour, temp_k)
    r, c = d.rep_wire_r_ohm_per_um[kind], d.rep_wire_c_f_per_um[kind]
    cin = d.cg_f_per_um * (1.0 + d.rp_ohm_um / d.rn_ohm_um)  # per um of NMOS width
    cdr = d.cd_f_per_um * (1.0 + d.rp_ohm_um / d.rn_ohm_um)
    rdr = d.rn_ohm_um
    h = np.logspace(-1, 3, 400)[:, None]  # NMOS width of a repeater, um
    k = np.logspace(0, 4, 400)[None, :]  # repeater spacing, um
    # driver term with the Horowitz steady-state factor used for every gate in this model
    t_seg = HOROWITZ_X * (rdr / h) * (cdr * h + c * k + cin * h) + r * k * (
        0.38 * c * k + 0.69 * cin * h
    )
    delay = t_seg / k
    energy = (c * k + h * (cin + cdr)) * d.vdd**2 / k
    ok = delay <= (1.0 + REPEATER_DELAY_PENALTY) * delay.min()
    i = np.argmin(np.where(ok, energy, np.inf))
    hi, ki = np.unravel_index(i, energy.shape)
    hh, kk = float(h[hi, 0]), float(k[0, ki])
    leak = hh * (1.0 + d.rp_ohm_um / d.rn_ohm_um) / 2.0 * (d.ioff_a_per_um + d.igate_a_per_um)
    area = hh * (1.0 + d.rp_ohm_um / d.rn_ohm_um) * TRANSISTOR_AREA_F * d.f_um * LAYOUT_OVERHEAD
    return Repeater(
        delay_s_per_um=float(delay[hi, ki]),
        nmos_width_um=hh,
        energy_j_per_um=float(energy[hi, ki]),
        leak_w_per_um=leak * d.vdd / kk,
        area_um2_per_um=area / kk,
    )


RESULT_COLUMNS = [
    "read_energy_pj",
    "write_energy_pj",
    "access_time_ns",
    "cycle_time_ns",
    "leakage_mw",
    "area_mm2",
    "subarray_rows",
    "subarray_cols",
    "col_mux",
    "mats",
    "mats_x",
]


@dataclass(frozen=True, eq=False)
class _Grid:
    """The organization grid, broadcast as points (P,1,1,1) x rows (1,R,1,1) x mux (1,1,M,1)
    x mats_x (1,1,1,X).  All counts dimensionless (float arrays); ``W`` in bits."""

    P: int  # design points
    nb: np.ndarray  # banks per point, flat (P,)
    W: np.ndarray  # word bits (P,1,1,1)
    R: np.ndarray  # subarray rows (1,R,1,1)
    M: np.ndarray  # column mux (1,1,M,1)
    MX: np.ndarray  # mats across the bank width (1,1,1,X)
    cols: np.ndarray  # subarray columns
    mat_bits: np.ndarray  # bits of one mat (2 x 2 subarrays)
    mats: np.ndarray  # mats per bank
    mats_y: np.ndarray  # mats along the bank height
    feasible: np.ndarray  # bool: the organization holds the bank
    n_addr: np.ndarray  # address bits of one bank


@dataclass(frozen=True, eq=False)
class _Device:
    """Device figures of one node, flavour, temperature and port count: ``d`` the derived
    technology (:func:`tech.derive`, SI units in its field names), ``rep`` the semi-global
    repeated wire (:func:`repeater`), ``ports`` cell ports, ``vdd`` in V, ``f`` the feature
    size in um, ``n2p`` the PMOS/NMOS width ratio of equal drive (Rp / Rn)."""

    d: tech.Derived
    rep: Repeater
    ports: int
    vdd: float
    f: float
    n2p: float


@dataclass(frozen=True, eq=False)
class _Array:
    """Cell array: transistor widths (um), local wire (Ohm/um, F/um), the wordline of one
    subarray row ``c_wl`` (F) / ``r_wl`` (Ohm) and one bitline ``c_bl`` (F) / ``r_bl`` (Ohm)."""

    w_acc: float
    w_pd: float
    w_pu: float
    r_loc: float
    c_loc: float
    w_pre: float
    w_eq: float
    w_mux: float
    c_wl: np.ndarray
    r_wl: np.ndarray
    c_bl: np.ndarray
    r_bl: np.ndarray


@dataclass(frozen=True, eq=False)
class _Decoder:
    """Row decoder: ``tau_unit`` (s), ``p_inv`` (in tau_unit), predecode line ``c_pl`` (F),
    subarray height ``sub_h`` (um), predecode stage effort ``f_pre``, wordline-driver chain
    ``n_stages`` / ``stage_effort``, last-stage NMOS width ``w_last`` (um); delays (s)."""

    tau_unit: float
    p_inv: float
    c_pl: np.ndarray
    sub_h: np.ndarray
    f_pre: np.ndarray
    n_stages: np.ndarray
    stage_effort: np.ndarray
    w_last: np.ndarray
    t_chain: np.ndarray
    t_predec_wire: np.ndarray
    t_wl_wire: np.ndarray
    t_dec: np.ndarray
    wl_rise: np.ndarray


@dataclass(frozen=True, eq=False)
class _Bitline:
    """Bitline: sensed swing ``v_sense`` (V); delays (s) of the bitline read ``t_bl``, the
    sense amplifier ``t_sa`` and the precharge restore ``t_pre``."""

    v_sense: float
    t_bl: np.ndarray
    t_sa: float
    t_pre: np.ndarray


@dataclass(frozen=True, eq=False)
class _Geometry:
    """Mat and bank geometry, lengths in um: subarray width ``sub_w``, wordline-driver
    transistor width per row ``w_chain``, mat and bank sides, H-tree length ``l_htree``, mat
    output wire ``l_mat_out``; ``area`` of one bank in um^2 (H-tree repeaters included)."""

    sub_w: np.ndarray
    w_chain: np.ndarray
    mat_w: np.ndarray
    mat_h: np.ndarray
    bank_w: np.ndarray
    bank_h: np.ndarray
    l_htree: np.ndarray
    l_mat_out: np.ndarray
    area: np.ndarray


@dataclass(frozen=True, eq=False)
class _Delays:
    """Delays of one bank in s (``levels``: H-tree branching levels, dimensionless)."""

    levels: np.ndarray
    t_ht: np.ndarray
    t_out: np.ndarray
    access: np.ndarray
    cycle: np.ndarray


@dataclass(frozen=True, eq=False)
class _Energies:
    """Energies of one bank in J per access: the read components, ``e_read`` and ``e_write``."""

    e_dec: np.ndarray
    e_predec: np.ndarray
    e_wl: np.ndarray
    e_pre: np.ndarray
    e_bl_read: np.ndarray
    e_mux: np.ndarray
    e_sa: np.ndarray
    e_out: np.ndarray
    e_ht_read: np.ndarray
    e_read: np.ndarray
    e_write: np.ndarray


@dataclass(frozen=True, eq=False)
class _Totals:
    """The whole memory (all banks and their bus): ``access`` in s, ``e_read`` / ``e_write``
    in J per access, ``leak_total`` in W, ``area_total`` in um^2."""

    access: np.ndarray
    e_read: np.ndarray
    e_write: np.ndarray
    leak_total: np.ndarray
    area_total: np.ndarray


@dataclass(frozen=True, eq=False)
class _Choice:
    """The chosen organization per point: flat index ``best`` into the grid, ``ok`` False
    where no organization is feasible."""

    grid: _Grid
    best: np.ndarray
    ok: np.ndarray

    def pick(self, a: np.ndarray) -> np.ndarray:
        """The value of grid-broadcastable ``a`` at each point's choice (NaN where none)."""
        P = self.grid.P
        full = np.broadcast_to(a, self.grid.feasible.shape).reshape(P, -1)
        v = full[np.arange(P), self.best].astype(float)
        return np.where(self.ok, v, np.nan)


def _grid(
    capacity_bytes: np.ndarray, word_bits: np.ndarray, banks: np.ndarray,
    rows_choices: np.ndarray | None, mux_choices: np.ndarray | None,
    mats_x_choices: np.ndarray | None,
) -> _Grid:
    """Every organization of every point (capacity in bytes, word in bits), see :class:`_Grid`."""
    cap, wbits, nb = np.broadcast_arrays(
        np.asarray(capacity_bytes, dtype=float),
        np.asarray(word_bits, dtype=float),
        np.asarray(banks, dtype=float),
    )
    cap, wbits, nb = cap.ravel(), wbits.ravel(), nb.ravel()

    # Broadcast: points (P,1,1,1) x rows (1,R,1,1) x mux (1,1,M,1) x mats_x (1,1,1,X).
    P = cap.size
    bits = (8.0 * cap / nb).reshape(P, 1, 1, 1)
    W = wbits.reshape(P, 1, 1, 1)
    R = np.asarray(ROWS if rows_choices is None else rows_choices, float).reshape(1, -1, 1, 1)
    M = np.asarray(MUX if mux_choices is None else mux_choices, float).reshape(1, 1, -1, 1)
    MX = np.asarray(MATS_X if mats_x_choices is None else mats_x_choices, float)
    MX = MX.reshape(1, 1, 1, -1)
    cols = M * np.ceil(W / 4.0)
    mat_bits = 4.0 * R * cols
    mats = np.ceil(bits / mat_bits)
    mats_y = np.ceil(mats / MX)
    feasible = (mat_bits <= bits) & (MX <= mats) & (cols <= 4096)
    words = bits / W
    n_addr = np.ceil(np.log2(np.maximum(words, 2.0)))
    return _Grid(P=P, nb=nb, W=W, R=R, M=M, MX=MX, cols=cols, mat_bits=mat_bits, mats=mats,
                 mats_y=mats_y, feasible=feasible, n_addr=n_addr)


def _device(node: int, flavour: str, temp_k: float, ports: int) -> _Device:
    """Technology and repeater figures of the node (nm), flavour and temperature (K)."""
    d = tech.derive(node, flavour, float(temp_k), ports)
    rep = repeater(node, flavour, float(temp_k), 1)
    return _Device(d=d, rep=rep, ports=ports, vdd=d.vdd, f=d.f_um,
                   n2p=d.rp_ohm_um / d.rn_ohm_um)


def _array(dev: _Device, g: _Grid) -> _Array:
    """Capacitances (F) and resistances (Ohm) of the array, transistor widths in um."""
    d, f, n2p = dev.d, dev.f, dev.n2p
    R, M, cols = g.R, g.M, g.cols
    w_acc, w_pd, w_pu = (tech.CELL_W_ACCESS_F * f, tech.CELL_W_NMOS_F * f, tech.CELL_W_PMOS_F * f)
    r_loc, c_loc = d.wire_r_ohm_per_um[0], d.wire_c_f_per_um[0]
    w_pre = 6 * tech.W_MIN_NMOS_F * f * n2p  # precharge PMOS (CACTI 5.1 TR sizing)
    w_eq = tech.W_MIN_NMOS_F * f * n2p  # equaliser PMOS
    w_mux = tech.W_BITMUX_F * f
    c_wl = cols * (2.0 * d.cg_f_per_um * w_acc + c_loc * d.cell_w_um)
    r_wl = r_loc * cols * d.cell_w_um
    c_bl = (
        R * (0.5 * (d.cd_f_per_um * w_acc + d.cd_fixed_f) + c_loc * d.cell_h_um)
        + d.cd_f_per_um * w_pre
        + np.where(M > 1, d.cd_f_per_um * w_mux, 0.0)
    )
    r_bl = r_loc * R * d.cell_h_um
    return _Array(w_acc=w_acc, w_pd=w_pd, w_pu=w_pu, r_loc=r_loc, c_loc=c_loc, w_pre=w_pre,
                  w_eq=w_eq, w_mux=w_mux, c_wl=c_wl, r_wl=r_wl, c_bl=c_bl, r_bl=r_bl)


def _chain(
    effort: np.ndarray, tau_unit: float, p_inv: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stages, stage effort and delay (s) of an optimal chain of path effort ``effort``."""
    x = HOROWITZ_X  # Horowitz steady state for a chain of equal stages: t = x tau
    n = np.clip(np.round(np.log(np.maximum(effort, 1.0)) / np.log(4.0)), 1, 20)
    fs = np.maximum(effort, 1.0) ** (1.0 / n)
    return n, fs, n * x * tau_unit * (fs + p_inv)


def _row_decoder(dev: _Device, g: _Grid, arr: _Array) -> _Decoder:
    """Row decoder: two logical-effort chains; delays in s, widths in um, capacitances in F.

    (1) mat input -> one predecode line (NAND2 of a 2-bit group driving the line wire over
    the mat height and the R/4 row gates on it); (2) row gate (minimum NAND3,
    pitch-matched) -> wordline driver chain -> wordline.
    """
    d, f, n2p, R = dev.d, dev.f, dev.n2p, g.R
    r_loc, c_loc, c_wl, r_wl = arr.r_loc, arr.c_loc, arr.c_wl, arr.r_wl
    tau_unit = d.rn_ohm_um * d.cg_f_per_um * (1.0 + n2p)  # R x C_in of any inverter, s
    p_inv = d.cd_f_per_um / d.cg_f_per_um  # parasitic delay of an inverter, in tau_unit
    c_min_inv = tech.W_MIN_NMOS_F * f * d.cg_f_per_um * (1.0 + n2p)
    c_in = DEC_INPUT_MIN_INVERTERS * c_min_inv
    c_row_in = (5.0 / 3.0) * c_min_inv  # minimum NAND3 input (logical effort 5/3)
    sub_h = R * d.cell_h_um
    c_pl = c_loc * 2.0 * sub_h + np.maximum(R / 4.0, 1.0) * c_row_in
    x = HOROWITZ_X  # Horowitz steady state for a chain of equal stages: t = x tau

    n_pre, f_pre, t_pre_chain = _chain((4.0 / 3.0) * c_pl / c_in, tau_unit, p_inv)
    n_stages, stage_effort, t_row_chain = _chain((5.0 / 3.0) * c_wl / c_row_in, tau_unit, p_inv)
    tau_stage = tau_unit * (stage_effort + p_inv)
    t_chain = t_pre_chain + t_row_chain
    # Pitch-matched last stage: NMOS at most W_DEC_MAX_F wide.
    w_last_opt = c_wl / (stage_effort * d.cg_f_per_um * (1.0 + n2p))
    w_last = np.minimum(w_last_opt, tech.W_DEC_MAX_F * f)
    tau_last_ideal = tau_stage
    tau_last = d.rn_ohm_um / w_last * (c_wl + d.cd_f_per_um * w_last * (1.0 + n2p))
    t_chain = t_chain + x * np.maximum(tau_last - tau_last_ideal, 0.0)
    # Predecode wires run the mat height (both subarrays): distributed RC.
    t_predec_wire = 0.38 * r_loc * c_loc * (2.0 * sub_h) ** 2
    t_wl_wire = 0.38 * r_wl * c_wl
    t_dec = t_chain + t_predec_wire + t_wl_wire
    wl_rise = x * tau_last / (1.0 - HOROWITZ_VS) + 2.2 * 0.38 * r_wl * c_wl
    return _Decoder(tau_unit=tau_unit, p_inv=p_inv, c_pl=c_pl, sub_h=sub_h, f_pre=f_pre,
                    n_stages=n_stages, stage_effort=stage_effort, w_last=w_last,
                    t_chain=t_chain, t_predec_wire=t_predec_wire, t_wl_wire=t_wl_wire,
                    t_dec=t_dec, wl_rise=wl_rise)


def _bitline(dev: _Device, arr: _Array, dec: _Decoder) -> _Bitline:
    """Bitline: limited-swing read with wordline slope (Wada 1992 / CACTI); V and s."""
    d, vdd = dev.d, dev.vdd
    c_bl, r_bl, w_pre = arr.c_bl, arr.r_bl, arr.w_pre
    v_sense = max(tech.V_SENSE_FRACTION * vdd, tech.V_SENSE_MIN)
    r_cell = d.rn_ohm_um / arr.w_acc + d.rn_ohm_um / arr.w_pd
    tau_bl = r_cell * c_bl + r_bl * c_bl / 2.0
    t_step = tau_bl * np.log(vdd / (vdd - v_sense))
    slope = vdd / dec.wl_rise
    v_ov = vdd - d.vth
    t_bl = np.where(
        t_step <= 0.5 * v_ov / slope,
        np.sqrt(2.0 * t_step * v_ov / slope),
        t_step + v_ov / (2.0 * slope),
    )
    t_sa = d.sense_delay_s
    # precharge restore of the bitline (PMOS of width w_pre), for the cycle time
    t_pre = 0.69 * (d.rp_ohm_um / w_pre) * c_bl + r_bl * c_bl * 0.38
    return _Bitline(v_sense=v_sense, t_bl=t_bl, t_sa=t_sa, t_pre=t_pre)


def _geometry(dev: _Device, g: _Grid, arr: _Array, dec: _Decoder) -> _Geometry:
    """Mat and bank geometry (um) and the area of one bank (um^2)."""
    d, rep, f, n2p = dev.d, dev.rep, dev.f, dev.n2p
    M, MX, W, mats_y, n_addr = g.M, g.MX, g.W, g.mats_y, g.n_addr
    w_pre, w_eq, w_mux = arr.w_pre, arr.w_eq, arr.w_mux
    w_last, stage_effort, sub_h = dec.w_last, dec.stage_effort, dec.sub_h
    sub_w = g.cols * d.cell_w_um
    tarea = TRANSISTOR_AREA_F * f * LAYOUT_OVERHEAD  # um^2 per um of transistor width

    # decoder chain widths per row (geometric series from the last stage), NMOS+PMOS
    w_chain = w_last * (1.0 + n2p) * stage_effort / np.maximum(stage_effort - 1.0, 0.5)
    # two wordline drivers per row; at least one minimum NAND3 + inverter per row pitch
    w_chain = np.maximum(w_chain, (3.0 + 1.0) * tech.W_MIN_NMOS_F * f * (1.0 + n2p))
    w_dec_strip = 2.0 * w_chain * tarea / d.cell_h_um
    # per sense amplifier (shared by col_mux columns): cross-coupled latch (2 N + 2 P),
    # enable, 2 isolation, 2 write drivers, and the output driver (a repeater-sized inverter
    # driving the mat output bus); per column: 2 precharge + equaliser + mux transistor
    w_per_sa = (
        2 * W_SENSE_N_F + 2 * W_SENSE_P_F + W_SENSE_EN_F + 2 * tech.W_ISO_F + 2 * W_WRITE_DRV_F
    ) * f + rep.nmos_width_um * (1.0 + n2p)
    w_per_col = 2.0 * w_pre + w_eq + np.where(M > 1, w_mux, 0.0) + w_per_sa / M
    h_col_strip = w_per_col * tarea / d.cell_w_um
    mat_w = 2.0 * sub_w + w_dec_strip
    mat_h = 2.0 * (sub_h + h_col_strip)
    # H-tree routed in channels between adjacent mat columns / rows, each carrying the
    # address and data wires at the semi-global pitch (assumption; CACTI likewise adds the
    # H-tree wiring area to the bank).
    n_wires = n_addr + W
    bank_w = MX * mat_w + (MX - 1.0) * n_wires * d.wire_pitch_um[1]
    bank_h = mats_y * mat_h + (mats_y - 1.0) * n_wires * d.wire_pitch_um[1]
    l_htree = np.maximum(bank_h + bank_w / 2.0 - (mat_h + mat_w / 2.0), 0.0)
    # the sense-amp outputs run along the column-periphery strip, one subarray width, to the
    # mat centre where the H-tree node sits
    l_mat_out = sub_w
    area = bank_w * bank_h + (n_addr + W) * l_htree * rep.area_um2_per_um
    return _Geometry(sub_w=sub_w, w_chain=w_chain, mat_w=mat_w, mat_h=mat_h, bank_w=bank_w,
                     bank_h=bank_h, l_htree=l_htree, l_mat_out=l_mat_out, area=area)


def _delays(dev: _Device, g: _Grid, dec: _Decoder, bl: _Bitline, geo: _Geometry) -> _Delays:
    """Access and cycle time of one bank (s).

    H-tree: repeated wire plus, at every branching level, a node that gates the address
    onto the selected branch (in) or merges the two branches (out): NAND + driver, two
    stages of effort 4 (logical-effort sizing, Horowitz delay).
    """
    rep, tau_unit, p_inv = dev.rep, dec.tau_unit, dec.p_inv
    t_dec, t_bl, t_sa, t_pre = dec.t_dec, bl.t_bl, bl.t_sa, bl.t_pre
    levels = np.ceil(np.log2(np.maximum(g.mats, 1.0)))
    t_node = 2.0 * HOROWITZ_X * tau_unit * (4.0 + p_inv)
    t_ht = geo.l_htree * rep.delay_s_per_um + levels * t_node
    t_out = geo.l_mat_out * rep.delay_s_per_um
    access = t_ht + t_dec + t_bl + t_sa + t_out + t_ht
    cycle = t_dec + t_bl + t_sa + t_pre
    return _Delays(levels=levels, t_ht=t_ht, t_out=t_out, access=access, cycle=cycle)


def _energies(
    dev: _Device, g: _Grid, arr: _Array, dec: _Decoder, bl: _Bitline, geo: _Geometry,
    dl: _Delays,
) -> _Energies:
    """Energies (J) per access of one bank, read and write."""
    d, rep, vdd, f, n2p = dev.d, dev.rep, dev.vdd, dev.f, dev.n2p
    R, M, W, cols, n_addr = g.R, g.M, g.W, g.cols, g.n_addr
    c_wl, c_bl, w_pre, w_eq, w_mux = arr.c_wl, arr.c_bl, arr.w_pre, arr.w_eq, arr.w_mux
    stage_effort, p_inv, c_pl, f_pre = dec.stage_effort, dec.p_inv, dec.c_pl, dec.f_pre
    v_sense, l_mat_out, l_htree, levels = bl.v_sense, geo.l_mat_out, geo.l_htree, dl.levels
    e_dec = 4.0 * (c_wl / np.maximum(stage_effort - 1.0, 0.5)) * (1.0 + p_inv) * vdd**2
    # one predecoded line per 2-bit group rises (and is charged) per access, with its chain
    e_predec = (np.ceil(np.log2(R) / 2.0) * c_pl * (1.0 + (1.0 + p_inv)
                / np.maximum(f_pre - 1.0, 0.5)) * vdd**2)
    e_wl = 4.0 * c_wl * vdd**2
    e_pre = 4.0 * cols * d.cg_f_per_um * (2.0 * w_pre + w_eq) * vdd**2
    e_bl_read = 4.0 * cols * c_bl * 2.0 * v_sense * vdd
    e_mux = 4.0 * np.ceil(W / 4.0) * np.where(M > 1, d.cg_f_per_um * w_mux * vdd**2, 0.0)
    e_sa = W * d.sense_energy_j
    e_out = W * l_mat_out * rep.energy_j_per_um
    # node gates: each level drives one repeater-sized input per bit
    c_node = rep.nmos_width_um * d.cg_f_per_um * (1.0 + n2p)
    e_ht_read = (n_addr + W) * (l_htree * rep.energy_j_per_um + levels * c_node * vdd**2)
    e_read = e_dec + e_predec + e_wl + e_pre + e_bl_read + e_mux + e_sa + e_out + e_ht_read
    # write: written columns full swing, half-selected columns a read-like swing
    e_bl_write = W * c_bl * vdd**2 + (4.0 * cols - W) * c_bl * 2.0 * v_sense * vdd
    e_wdrv = W * d.cg_f_per_um * W_WRITE_DRV_F * f * (1.0 + n2p) * vdd**2
    e_write = e_dec + e_predec + e_wl + e_pre + e_bl_write + e_mux + e_wdrv + e_out + e_ht_read
    return _Energies(e_dec=e_dec, e_predec=e_predec, e_wl=e_wl, e_pre=e_pre,
                     e_bl_read=e_bl_read, e_mux=e_mux, e_sa=e_sa, e_out=e_out,
                     e_ht_read=e_ht_read, e_read=e_read, e_write=e_write)


def _leakage(dev: _Device, g: _Grid, arr: _Array, geo: _Geometry) -> np.ndarray:
    """Leakage power of one bank (W): cells, periphery and H-tree repeaters."""
    d, rep, vdd, f, ports = dev.d, dev.rep, dev.vdd, dev.f, dev.ports
    R, M, W, cols, mats, n_addr = g.R, g.M, g.W, g.cols, g.mats, g.n_addr
    w_pd, w_pu, w_acc = arr.w_pd, arr.w_pu, arr.w_acc
    ileak = d.ioff_a_per_um
    cell_leak = vdd * (ileak * (w_pd + w_pu + ports * w_acc) + d.igate_a_per_um * (w_pd + w_pu))
    n_cells = mats * g.mat_bits
    per_mat_periph_w = (
        4.0 * R * geo.w_chain / 2.0  # wordline drivers: half of each stage is off
        + 4.0 * cols / M * (W_SENSE_N_F + W_SENSE_P_F + W_SENSE_EN_F + tech.W_ISO_F) * f
    )
    periph_leak = vdd * (ileak + d.igate_a_per_um) * per_mat_periph_w * mats
    ht_leak = (n_addr + W) * geo.l_htree * rep.leak_w_per_um
    return cell_leak * n_cells + periph_leak + ht_leak


def _bank_bus(
    dev: _Device, g: _Grid, access: np.ndarray, e_read: np.ndarray, e_write: np.ndarray,
    leak: np.ndarray, area: np.ndarray,
) -> _Totals:
    """Bank-level bus for several banks: banks side by side, bus to the middle.  Takes one
    bank's access (s), energies (J), leakage (W) and area (um^2); returns the whole memory's."""
    rep, nb, P, n_addr, W = dev.rep, g.nb, g.P, g.n_addr, g.W
    bank_area = area
    l_bus = np.where(nb.reshape(P, 1, 1, 1) > 1, np.sqrt(bank_area * nb.reshape(P, 1, 1, 1)), 0.0)
    access = access + 2.0 * 0.5 * l_bus * rep.delay_s_per_um
    e_bus = (n_addr + np.log2(nb.reshape(P, 1, 1, 1)) + W) * 0.5 * l_bus * rep.energy_j_per_um
    e_read = e_read + e_bus
    e_write = e_write + e_bus
    nbb = nb.reshape(P, 1, 1, 1)
    leak_total = leak * nbb + (n_addr + W) * 0.5 * l_bus * rep.leak_w_per_um
    area_total = area * nbb + (n_addr + W) * 0.5 * l_bus * rep.area_um2_per_um
    return _Totals(access=access, e_read=e_read, e_write=e_write, leak_total=leak_total,
                   area_total=area_total)


def _search(g: _Grid, tot: _Totals) -> _Choice:
    """Organization search: minimise E x D^2 (read energy in J x access time in s, squared).

    Candidates: feasible and (CACTI's filter_data_arr) not more than 50 % worse than the
    best in both delay and energy; of those, the ones within AREA_SLACK of the densest.
    """
    P, feasible = g.P, g.feasible
    shape = feasible.shape
    fe = feasible.reshape(P, -1)
    a_flat = np.broadcast_to(tot.area_total, shape).reshape(P, -1)
    t_flat = np.broadcast_to(tot.access, shape).reshape(P, -1)
    e_flat = np.broadcast_to(tot.e_read, shape).reshape(P, -1)
    inf = np.inf
    t_min = np.min(np.where(fe, t_flat, inf), axis=1, keepdims=True)
    e_min = np.min(np.where(fe, e_flat, inf), axis=1, keepdims=True)
    keep = fe & ~((t_flat > 1.5 * t_min) & (e_flat > 1.5 * e_min))
    a_min = np.min(np.where(keep, a_flat, inf), axis=1, keepdims=True)
    keep &= a_flat <= (1.0 + AREA_SLACK) * a_min
    obj = np.where(keep, e_flat * t_flat**2, np.inf)
    best = np.argmin(obj, axis=1)
    ok = np.isfinite(obj[np.arange(P), best])
    return _Choice(grid=g, best=best, ok=ok)


def _results(ch: _Choice, g: _Grid, tot: _Totals, cycle: np.ndarray) -> dict[str, np.ndarray]:
    """The ``RESULT_COLUMNS`` of the chosen organizations, in pJ, ns, mW, mm^2 and counts."""
    pick = ch.pick
    return {
        "read_energy_pj": pick(tot.e_read) * 1e12,
        "write_energy_pj": pick(tot.e_write) * 1e12,
        "access_time_ns": pick(tot.access) * 1e9,
        "cycle_time_ns": pick(cycle) * 1e9,
        "leakage_mw": pick(tot.leak_total) * 1e3,
        "area_mm2": pick(tot.area_total) * 1e-6,
        "subarray_rows": pick(g.R),
        "subarray_cols": pick(g.cols),
        "col_mux": pick(g.M),
        "mats": pick(g.mats),
        "mats_x": pick(g.MX),
    }


def _components(
    ch: _Choice, arr: _Array, dec: _Decoder, bl: _Bitline, geo: _Geometry, dl: _Delays,
    en: _Energies,
) -> dict[str, np.ndarray]:
    """Per-component delays (s), energies (J) and mat geometry (um, F) of the chosen one."""
    comp = dict(t_ht=dl.t_ht, t_dec=dec.t_dec, t_chain=dec.t_chain, t_wl_wire=dec.t_wl_wire,
                t_predec=dec.t_predec_wire, t_bl=bl.t_bl, t_out=dl.t_out, e_dec=en.e_dec,
                e_predec=en.e_predec, e_wl=en.e_wl, e_pre=en.e_pre, e_bl=en.e_bl_read,
                e_mux=en.e_mux, e_sa=en.e_sa, e_out=en.e_out, e_ht=en.e_ht_read,
                mat_w=geo.mat_w, mat_h=geo.mat_h, c_bl=arr.c_bl, c_wl=arr.c_wl,
                n_stages=dec.n_stages, w_last=dec.w_last)
    return {k: ch.pick(v) for k, v in comp.items()}


def evaluate(
    capacity_bytes: np.ndarray,
    word_bits: np.ndarray,
    banks: np.ndarray,
    *,
    node: int = 45,
    flavour: str = "hp",
    temp_k: float = 360.0,
    rw_ports: int = 1,
    read_ports: int = 0,
    write_ports: int = 0,
    rows_choices: np.ndarray | None = None,
    mux_choices: np.ndarray | None = None,
    mats_x_choices: np.ndarray | None = None,
    components: bool = False,
) -> dict[str, np.ndarray]:
    """Model every point of the (broadcast) arrays; returns columns of ``RESULT_COLUMNS``.

    Units: capacity in bytes, word in bits; energies pJ per access, times ns, leakage mW
    (whole memory, all banks), area mm^2 (all banks).  Points with no feasible organization
    come back as NaN (the public API turns that into an error).  ``*_choices`` restrict the
    organization search (diagnostics, e.g. forcing CACTI's organization); ``components``
    adds the per-component delays (s), energies (J) and mat geometry (um) of the chosen one.
    """
    g = _grid(capacity_bytes, word_bits, banks, rows_choices, mux_choices, mats_x_choices)
    dev = _device(node, flavour, temp_k, rw_ports + read_ports + write_ports)
    arr = _array(dev, g)
    dec = _row_decoder(dev, g, arr)
    bl = _bitline(dev, arr, dec)
    geo = _geometry(dev, g, arr, dec)
    dl = _delays(dev, g, dec, bl, geo)
    en = _energies(dev, g, arr, dec, bl, geo, dl)
    leak = _leakage(dev, g, arr, geo)
    tot = _bank_bus(dev, g, dl.access, en.e_read, en.e_write, leak, geo.area)
    ch = _search(g, tot)
    out = _results(ch, g, tot, dl.cycle)
    if components:
        out.update(_components(ch, arr, dec, bl, geo, dl, en))
    return out


def check_inputs(capacity_bytes: np.ndarray, word_bits: np.ndarray, banks: np.ndarray) -> None:
    """Raise :class:`SramInputError` naming the first bad parameter."""
    for name, arr in (("capacity", capacity_bytes), ("word_bits", word_bits), ("banks", banks)):
        a = np.atleast_1d(np.asarray(arr, dtype=float))
        bad = ~np.isfinite(a) | (a <= 0)
        if bad.any():
            raise SramInputError(f"{name}: must be a positive integer (got {a[bad][0]:g})")
        frac = a != np.round(a)
        if frac.any():
            raise SramInputError(f"{name}: must be an integer (got {a[frac][0]:g})")
    c, w, b = np.broadcast_arrays(np.asarray(capacity_bytes, float), np.asarray(word_bits, float),
                                  np.asarray(banks, float))
    if np.any(w > 8.0 * c / b):
        raise SramInputError("word_bits: word is wider than the array (capacity per bank); "
                             "use a smaller word or a larger capacity")
    if np.any(c % b != 0):
        raise SramInputError("banks: capacity must divide evenly into the banks")
    if np.any((8.0 * c / b) % w != 0):
        raise SramInputError("capacity: must hold a whole number of words per bank "
                             "(capacity x 8 / banks divisible by word_bits)")
