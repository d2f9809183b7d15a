"""Device and wire data for the analytical SRAM model (32, 45, 65, 90 nm).

Sources (every number in ``NODES`` is copied from these tables, not fitted):

* Transistor data (gate/junction capacitance, Vdd, Vth, on/off/gate current, effective
  resistance multiplier, n/p drive ratio) are the ITRS 2005/2007 roadmap projections for the
  high-performance ("hp"), low-standby-power ("lstp") and low-operating-power ("lop")
  devices as tabulated in CACTI 7 ``tech_params/<node>nm.dat`` (shipped in the zigzag-dse 3.9.1
  wheel; HP Labs, BSD-style licence).  Off current is tabulated per 10 K from 300 K to 400 K.
* Wire data are the ITRS "conservative" interconnect projection of the same files: pitch in
  units of F for local / semi-global / global wires, aspect ratio, barrier and dishing
  thickness, Miller factor, horizontal/vertical dielectric constants, ILD thickness, fringe
  capacitance and copper resistivity.
* The 6T cell is the ITRS SRAM cell of the same files: 146 F^2, aspect ratio 1.46, access /
  pull-up / pull-down widths 1.31 F / 1.23 F / 2.08 F.
* The sense-amplifier delay and energy (``sense_delay``/``sense_dy_power``) are from the same
  files.

Where the project's FreePDK45 cell library (``hwmodel.cells``) is available, its measured
inverter input capacitance, drive resistance and leakage could replace the 45 nm ``DeviceData``
entries below (same units); the model only reads them through :func:`derive`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from hwmodel.sram.errors import SramInputError

EPS0_F_PER_UM = 8.854e-18  # vacuum permittivity, F/um (CODATA 2018)


@dataclass(frozen=True)
class DeviceData:
    """ITRS transistor data of one device flavour at one node (units in the field names)."""

    c_g_ideal: float  # ideal gate capacitance, F/um of width
    c_fringe: float  # fringe gate capacitance, F/um
    c_junc: float  # junction (area) capacitance, F/um^2
    c_junc_sw: float  # junction sidewall capacitance, F/um of perimeter
    l_phy_um: float  # physical gate length, um
    r_nmos_mult: float  # effective-resistance multiplier on Vdd/Ion (CACTI/ITRS), -
    vdd: float  # supply, V
    vth: float  # threshold voltage, V
    i_on_n: float  # NMOS saturation current, A/um
    n2p_drive_ratio: float  # NMOS/PMOS drive-current ratio, -
    i_off_n: tuple[float, ...]  # subthreshold off current, A/um, at 300, 310, ..., 400 K
    i_g_on_n: tuple[float, ...]  # gate leakage current, A/um, at 300, 310, ..., 400 K


@dataclass(frozen=True)
class WireData:
    """ITRS conservative wire projection; tuples are (local, semi-global, global)."""

    pitch_f: tuple[float, float, float]  # wire pitch in units of the feature size F
    barrier_um: tuple[float, float, float]  # Cu barrier thickness, um
    dishing_um: tuple[float, float, float]  # CMP dishing thickness, um
    aspect: tuple[float, float, float]  # thickness / width, -
    miller: tuple[float, float, float]  # Miller factor on coupling capacitance, -
    eps_horiz: tuple[float, float, float]  # relative permittivity between wires, -
    eps_vert: tuple[float, float, float]  # relative permittivity to layers above/below, -
    ild_um: tuple[float, float, float]  # inter-layer dielectric thickness, um
    fringe_f_per_um: tuple[float, float, float]  # fringe capacitance, F/um
    rho_uohm_m: tuple[float, float, float]  # effective resistivity, uOhm*m (= Ohm*um)


@dataclass(frozen=True)
class NodeData:
    """All data of one technology node."""

    feature_um: float
    sense_delay_s: float  # latch sense-amplifier delay, s
    sense_energy_j: float  # sense-amplifier dynamic energy per bit, J
    wires: WireData
    devices: dict[str, DeviceData]


# ----------------------------------------------------------------------------------------
# Data: ITRS via CACTI 7 tech_params/{32,45,65,90}nm.dat (see module docstring).
# ----------------------------------------------------------------------------------------
NODES: dict[int, NodeData] = {
    32: NodeData(
        feature_um=0.032,
        sense_delay_s=3e-11,
        sense_energy_j=2.16e-15,
        wires=WireData(
            pitch_f=(2.5, 4.0, 8.0),
            barrier_um=(0.003, 0.003, 0.003),
            dishing_um=(0.0, 0.0, 0.02816),
            aspect=(2.0, 2.0, 2.2),
            miller=(1.5, 1.5, 1.5),
            eps_horiz=(2.214, 2.214, 2.214),
            eps_vert=(3.9, 3.9, 3.9),
            ild_um=(0.21, 0.21, 0.385),
            fringe_f_per_um=(1.15e-16, 1.15e-16, 1.15e-16),
            rho_uohm_m=(0.022, 0.022, 0.022),
        ),
        devices={
            "hp": DeviceData(
                c_g_ideal=5.34e-16,
                c_fringe=4e-17,
                c_junc=1e-15,
                c_junc_sw=2.5e-16,
                l_phy_um=0.013,
                r_nmos_mult=1.49,
                vdd=0.9,
                vth=0.21835,
                i_on_n=0.0022117,
                n2p_drive_ratio=2.41,
                i_off_n=(
                    1.52e-07,
                    1.55e-07,
                    1.59e-07,
                    1.68e-07,
                    1.9e-07,
                    2.69e-07,
                    5.32e-07,
                    1.02e-06,
                    1.62e-06,
                    2.73e-06,
                    6.1e-06,
                ),
                i_g_on_n=(
                    6.55e-08,
                    6.55e-08,
                    6.55e-08,
                    6.55e-08,
                    6.55e-08,
                    6.55e-08,
                    6.55e-08,
                    6.55e-08,
                    6.55e-08,
                    6.55e-08,
                    6.55e-08,
                ),
            ),
            "lstp": DeviceData(
                c_g_ideal=4.58e-16,
                c_fringe=5.3e-17,
                c_junc=1e-15,
                c_junc_sw=2.5e-16,
                l_phy_um=0.02,
                r_nmos_mult=1.99,
                vdd=1.0,
                vth=0.513,
                i_on_n=0.0006836,
                n2p_drive_ratio=2.23,
                i_off_n=(
                    2.06e-11,
                    3.3e-11,
                    5.15e-11,
                    7.83e-11,
                    1.16e-10,
                    1.69e-10,
                    2.4e-10,
                    3.34e-10,
                    4.54e-10,
                    5.96e-10,
                    7.44e-10,
                ),
                i_g_on_n=(
                    3.73e-11,
                    3.73e-11,
                    3.73e-11,
                    3.73e-11,
                    3.73e-11,
                    3.73e-11,
                    3.73e-11,
                    3.73e-11,
                    3.73e-11,
                    3.73e-11,
                    3.73e-11,
                ),
            ),
            "lop": DeviceData(
                c_g_ideal=4.54e-16,
                c_fringe=5.7e-17,
                c_junc=1e-15,
                c_junc_sw=2.5e-16,
                l_phy_um=0.016,
                r_nmos_mult=1.73,
                vdd=0.6,
                vth=0.24227,
                i_on_n=0.0008278,
                n2p_drive_ratio=2.28,
                i_off_n=(
                    5.94e-08,
                    7.23e-08,
                    8.7e-08,
                    1.04e-07,
                    1.22e-07,
                    1.43e-07,
                    1.65e-07,
                    1.9e-07,
                    2.15e-07,
                    2.39e-07,
                    2.63e-07,
                ),
                i_g_on_n=(
                    2.93e-09,
                    2.93e-09,
                    2.93e-09,
                    2.93e-09,
                    2.93e-09,
                    2.93e-09,
                    2.93e-09,
                    2.93e-09,
                    2.93e-09,
                    2.93e-09,
                    2.93e-09,
                ),
            ),
        },
    ),
    45: NodeData(
        feature_um=0.045,
        sense_delay_s=4e-11,
        sense_energy_j=2.7e-15,
        wires=WireData(
            pitch_f=(2.5, 4.0, 8.0),
            barrier_um=(0.004, 0.004, 0.004),
            dishing_um=(0.0, 0.0, 0.0396),
            aspect=(2.0, 2.0, 2.2),
            miller=(1.5, 1.5, 1.5),
            eps_horiz=(2.46, 2.46, 2.46),
            eps_vert=(3.9, 3.9, 3.9),
            ild_um=(0.315, 0.315, 0.55),
            fringe_f_per_um=(1.15e-16, 1.15e-16, 1.15e-16),
            rho_uohm_m=(0.022, 0.022, 0.022),
        ),
        devices={
            "hp": DeviceData(
                c_g_ideal=6.78e-16,
                c_fringe=5e-17,
                c_junc=1e-15,
                c_junc_sw=2.5e-16,
                l_phy_um=0.018,
                r_nmos_mult=1.51,
                vdd=1.0,
                vth=0.18035,
                i_on_n=0.0020466,
                n2p_drive_ratio=2.41,
                i_off_n=(
                    2.8e-07,
                    3.28e-07,
                    3.81e-07,
                    4.39e-07,
                    5.02e-07,
                    5.69e-07,
                    6.42e-07,
                    7.2e-07,
                    8.03e-07,
                    8.91e-07,
                    9.84e-07,
                ),
                i_g_on_n=(
                    3.59e-08,
                    3.59e-08,
                    3.59e-08,
                    3.59e-08,
                    3.59e-08,
                    3.59e-08,
                    3.59e-08,
                    3.59e-08,
                    3.59e-08,
                    3.59e-08,
                    3.59e-08,
                ),
            ),
            "lstp": DeviceData(
                c_g_ideal=5.18e-16,
                c_fringe=8e-17,
                c_junc=1e-15,
                c_junc_sw=2.5e-16,
                l_phy_um=0.028,
                r_nmos_mult=1.99,
                vdd=1.1,
                vth=0.50245,
                i_on_n=0.0006662,
                n2p_drive_ratio=2.23,
                i_off_n=(
                    1.01e-11,
                    1.65e-11,
                    2.62e-11,
                    4.06e-11,
                    6.12e-11,
                    9.02e-11,
                    1.3e-10,
                    1.83e-10,
                    2.51e-10,
                    3.29e-10,
                    4.1e-10,
                ),
                i_g_on_n=(
                    9.47e-12,
                    9.47e-12,
                    9.47e-12,
                    9.47e-12,
                    9.47e-12,
                    9.47e-12,
                    9.47e-12,
                    9.47e-12,
                    9.47e-12,
                    9.47e-12,
                    9.47e-12,
                ),
            ),
            "lop": DeviceData(
                c_g_ideal=6.2e-16,
                c_fringe=7.3e-17,
                c_junc=1e-15,
                c_junc_sw=2.5e-16,
                l_phy_um=0.022,
                r_nmos_mult=1.76,
                vdd=0.7,
                vth=0.22599,
                i_on_n=0.0007489,
                n2p_drive_ratio=2.28,
                i_off_n=(
                    4.03e-09,
                    5.02e-09,
                    6.18e-09,
                    7.51e-09,
                    9.04e-09,
                    1.08e-08,
                    1.27e-08,
                    1.47e-08,
                    1.66e-08,
                    1.84e-08,
                    2.03e-08,
                ),
                i_g_on_n=(
                    3.24e-08,
                    4.01e-08,
                    4.9e-08,
                    5.92e-08,
                    7.08e-08,
                    8.38e-08,
                    9.82e-08,
                    1.14e-07,
                    1.29e-07,
                    1.43e-07,
                    1.54e-07,
                ),
            ),
        },
    ),
    65: NodeData(
        feature_um=0.065,
        sense_delay_s=2e-10,
        sense_energy_j=5.7e-15,
        wires=WireData(
            pitch_f=(2.5, 4.0, 8.0),
            barrier_um=(0.006, 0.006, 0.006),
            dishing_um=(0.0, 0.0, 0.0572),
            aspect=(2.0, 2.0, 2.2),
            miller=(1.5, 1.5, 1.5),
            eps_horiz=(2.734, 2.734, 2.734),
            eps_vert=(3.9, 3.9, 3.9),
            ild_um=(0.405, 0.405, 0.77),
            fringe_f_per_um=(1.15e-16, 1.15e-16, 1.15e-16),
            rho_uohm_m=(0.022, 0.022, 0.022),
        ),
        devices={
            "hp": DeviceData(
                c_g_ideal=4.69e-16,
                c_fringe=7.7e-17,
                c_junc=1e-15,
                c_junc_sw=2.5e-16,
                l_phy_um=0.025,
                r_nmos_mult=1.5,
                vdd=1.1,
                vth=0.19491,
                i_on_n=0.0011972,
                n2p_drive_ratio=2.41,
                i_off_n=(
                    1.96e-07,
                    2.29e-07,
                    2.66e-07,
                    3.05e-07,
                    3.49e-07,
                    3.95e-07,
                    4.45e-07,
                    4.97e-07,
                    5.48e-07,
                    5.94e-07,
                    6.3e-07,
                ),
                i_g_on_n=(
                    4.09e-08,
                    4.09e-08,
                    4.09e-08,
                    4.09e-08,
                    4.09e-08,
                    4.09e-08,
                    4.09e-08,
                    4.09e-08,
                    4.09e-08,
                    4.09e-08,
                    4.09e-08,
                ),
            ),
            "lstp": DeviceData(
                c_g_ideal=6.14e-16,
                c_fringe=8e-17,
                c_junc=1e-15,
                c_junc_sw=2.5e-16,
                l_phy_um=0.045,
                r_nmos_mult=1.96,
                vdd=1.2,
                vth=0.52354,
                i_on_n=0.0005192,
                n2p_drive_ratio=2.23,
                i_off_n=(
                    9.12e-12,
                    1.49e-11,
                    2.36e-11,
                    3.64e-11,
                    5.48e-11,
                    8.05e-11,
                    1.15e-10,
                    1.59e-10,
                    2.1e-10,
                    2.62e-10,
                    3.21e-10,
                ),
                i_g_on_n=(
                    1.09e-10,
                    1.09e-10,
                    1.09e-10,
                    1.09e-10,
                    1.09e-10,
                    1.09e-10,
                    1.09e-10,
                    1.09e-10,
                    1.09e-10,
                    1.09e-10,
                    1.09e-10,
                ),
            ),
            "lop": DeviceData(
                c_g_ideal=6e-16,
                c_fringe=8e-17,
                c_junc=1e-15,
                c_junc_sw=2.5e-16,
                l_phy_um=0.032,
                r_nmos_mult=1.82,
                vdd=0.8,
                vth=0.28512,
                i_on_n=0.0005731,
                n2p_drive_ratio=2.28,
                i_off_n=(
                    4.9e-09,
                    6.49e-09,
                    8.45e-09,
                    1.08e-08,
                    1.37e-08,
                    1.71e-08,
                    2.09e-08,
                    2.48e-08,
                    2.84e-08,
                    3.13e-08,
                    3.42e-08,
                ),
                i_g_on_n=(
                    9.61e-09,
                    9.61e-09,
                    9.61e-09,
                    9.61e-09,
                    9.61e-09,
                    9.61e-09,
                    9.61e-09,
                    9.61e-09,
                    9.61e-09,
                    9.61e-09,
                    9.61e-09,
                ),
            ),
        },
    ),
    90: NodeData(
        feature_um=0.09,
        sense_delay_s=2.8e-10,
        sense_energy_j=1.47e-14,
        wires=WireData(
            pitch_f=(2.5, 4.0, 8.0),
            barrier_um=(0.008, 0.008, 0.008),
            dishing_um=(0.0, 0.0, 0.0792),
            aspect=(2.0, 2.0, 2.2),
            miller=(1.5, 1.5, 1.5),
            eps_horiz=(3.038, 3.038, 3.038),
            eps_vert=(3.9, 3.9, 3.9),
            ild_um=(0.48, 0.48, 1.1),
            fringe_f_per_um=(1.15e-16, 1.15e-16, 1.15e-16),
            rho_uohm_m=(0.022, 0.022, 0.022),
        ),
        devices={
            "hp": DeviceData(
                c_g_ideal=6.64e-16,
                c_fringe=8e-17,
                c_junc=1e-15,
                c_junc_sw=2.5e-16,
                l_phy_um=0.037,
                r_nmos_mult=1.54,
                vdd=1.2,
                vth=0.23707,
                i_on_n=0.0010769,
                n2p_drive_ratio=2.45,
                i_off_n=(
                    3.24e-08,
                    4.01e-08,
                    4.9e-08,
                    5.92e-08,
                    7.08e-08,
                    8.38e-08,
                    9.82e-08,
                    1.14e-07,
                    1.29e-07,
                    1.43e-07,
                    1.54e-07,
                ),
                i_g_on_n=(
                    1.65e-08,
                    1.65e-08,
                    1.65e-08,
                    1.65e-08,
                    1.65e-08,
                    1.65e-08,
                    1.65e-08,
                    1.65e-08,
                    1.65e-08,
                    1.65e-08,
                    1.65e-08,
                ),
            ),
            "lstp": DeviceData(
                c_g_ideal=9.15e-16,
                c_fringe=8e-17,
                c_junc=1e-15,
                c_junc_sw=2.5e-16,
                l_phy_um=0.075,
                r_nmos_mult=1.92,
                vdd=1.3,
                vth=0.48203,
                i_on_n=0.0005036,
                n2p_drive_ratio=2.44,
                i_off_n=(
                    2.81e-12,
                    4.76e-12,
                    7.82e-12,
                    1.25e-11,
                    1.94e-11,
                    2.94e-11,
                    4.36e-11,
                    6.32e-11,
                    8.95e-11,
                    1.25e-10,
                    1.7e-10,
                ),
                i_g_on_n=(
                    3.87e-11,
                    3.87e-11,
                    3.87e-11,
                    3.87e-11,
                    3.87e-11,
                    3.87e-11,
                    3.87e-11,
                    3.87e-11,
                    3.87e-11,
                    3.87e-11,
                    3.87e-11,
                ),
            ),
            "lop": DeviceData(
                c_g_ideal=8.45e-16,
                c_fringe=8e-17,
                c_junc=1e-15,
                c_junc_sw=2.5e-16,
                l_phy_um=0.053,
                r_nmos_mult=1.77,
                vdd=0.9,
                vth=0.30764,
                i_on_n=0.0003866,
                n2p_drive_ratio=2.54,
                i_off_n=(
                    2.14e-09,
                    2.9e-09,
                    3.87e-09,
                    5.07e-09,
                    6.54e-09,
                    8.27e-08,
                    1.02e-07,
                    1.2e-07,
                    1.36e-08,
                    1.52e-08,
                    1.73e-08,
                ),
                i_g_on_n=(
                    4.31e-08,
                    4.31e-08,
                    4.31e-08,
                    4.31e-08,
                    4.31e-08,
                    4.31e-08,
                    4.31e-08,
                    4.31e-08,
                    4.31e-08,
                    4.31e-08,
                    4.31e-08,
                ),
            ),
        },
    ),
}

# 6T SRAM cell of the ITRS tables above (CACTI 7 tech_params, "SRAM" block), units of F.
CELL_AREA_F2 = 146.0  # cell area, F^2
CELL_ASPECT = 1.46  # cell height (bitline direction) / width (wordline direction)
CELL_W_ACCESS_F = 1.31  # access transistor width, F
CELL_W_PMOS_F = 1.23  # pull-up width, F
CELL_W_NMOS_F = 2.08  # pull-down width, F

# Peripheral transistor sizes in units of F, from the CACTI 5.1 technical report
# (Thoziyoor et al., HPL-2008-20, section 2/ Table of transistor sizes; same values in CACTI 7
# parameter.cc): minimum NMOS 1.5 F, precharge PMOS 6 x min x (p/n sizing), column-mux NMOS
# 6 x min, sense-amp isolation 12.5 F, max decoder NMOS 100 F, decoder pitch 4 cell heights.
W_MIN_NMOS_F = 1.5
W_BITMUX_F = 6 * W_MIN_NMOS_F
W_ISO_F = 12.5
W_DEC_MAX_F = 100.0
DEC_PITCH_CELLS = 4
# Drain diffusion length of a contacted transistor (lambda rules: 2 lambda contact + 2 x 1
# lambda spacing = 2 F); assumption stated in the README.
L_DIFF_F = 2.0
# Gate overlap capacitance taken as 20 % of the ideal gate capacitance (assumption, the usual
# CACTI/ITRS convention C_overlap = 0.2 C_g_ideal).
C_OVERLAP_FRACTION = 0.2
# Minimum bitline differential for a latch sense amplifier (CACTI 5.1 TR: VBITSENSEMIN
# = 80 mV, or 5 % of Vdd if larger).
V_SENSE_MIN = 0.08
V_SENSE_FRACTION = 0.05

# Width (= spacing) of the repeated H-tree / mat-output wires as a fraction of the ITRS pitch:
# CACTI 7 convention (wire.cc, Wire::init_wire: width = pitch/2 * w_scale/2 with w_scale=1).
REPEATED_WIRE_WIDTH_FRAC = 0.25

FLAVOURS = {"hp": "hp", "lp": "lstp", "lstp": "lstp", "lop": "lop"}
T_MIN_K, T_MAX_K = 300.0, 400.0


@dataclass(frozen=True)
class Derived:
    """Per-node quantities the model uses (SI units in the names)."""

    f_um: float
    vdd: float
    vth: float
    cg_f_per_um: float  # gate capacitance per um of width incl. fringe and overlap
    cd_f_per_um: float  # drain capacitance per um of width (area + sidewall)
    cd_fixed_f: float  # drain sidewall capacitance of the two diffusion ends, F
    rn_ohm_um: float  # NMOS effective on-resistance x width, Ohm*um
    rp_ohm_um: float  # PMOS effective on-resistance x width, Ohm*um
    ioff_a_per_um: float  # subthreshold leakage at the temperature, A/um
    igate_a_per_um: float  # gate leakage at the temperature, A/um
    sense_delay_s: float
    sense_energy_j: float
    wire_r_ohm_per_um: tuple[float, float, float]  # (local, semi-global, global)
    wire_c_f_per_um: tuple[float, float, float]
    wire_pitch_um: tuple[float, float, float]
    rep_wire_r_ohm_per_um: tuple[float, float, float]  # repeated-wire convention (see above)
    rep_wire_c_f_per_um: tuple[float, float, float]
    cell_w_um: float  # along the wordline
    cell_h_um: float  # along the bitline


def _interp_temp(table: tuple[float, ...], temp_k: float) -> float:
    """Interpolate a 300..400 K (step 10 K) table log-linearly (leakage is exponential in T)."""
    xs = np.arange(T_MIN_K, T_MAX_K + 1.0, 10.0)
    ys = np.log(np.maximum(np.asarray(table, dtype=float), 1e-30))
    return float(np.exp(np.interp(temp_k, xs, ys)))


def wire_rc(w: WireData, f_um: float, kind: int, width_frac: float = 0.5) -> tuple[float, float]:
    """Resistance (Ohm/um) and capacitance (F/um) of one wire class.

    Parallel-plate coupling to both neighbours (x Miller factor) and to the layers above and
    below, plus a fringe term, as in the CACTI 5.1 TR wire model (Ho, Mai, Horowitz 2001);
    resistance from the copper cross-section less barrier and dishing.  ``width_frac`` is the
    wire width (= spacing) as a fraction of the pitch: 0.5 for dense wiring; CACTI 7 draws its
    repeated array wires at a quarter pitch (``wire.cc``: width = pitch/2 x w_scale/2), which
    :data:`REPEATED_WIRE_WIDTH_FRAC` reproduces.
    """
    pitch = w.pitch_f[kind] * f_um
    width = pitch * width_frac
    spacing = pitch * width_frac
    thick = w.aspect[kind] * width
    cond_w = width - 2.0 * w.barrier_um[kind]
    cond_t = thick - w.barrier_um[kind] - w.dishing_um[kind]
    r = w.rho_uohm_m[kind] / (cond_w * cond_t)
    c = (
        EPS0_F_PER_UM
        * (
            2.0 * w.miller[kind] * w.eps_horiz[kind] * thick / spacing
            + 2.0 * w.eps_vert[kind] * width / w.ild_um[kind]
        )
        + w.fringe_f_per_um[kind]
    )
    return r, c


@lru_cache(maxsize=64)
def derive(node: int, flavour: str, temp_k: float, ports: int = 1) -> Derived:
    """Derived device, wire and cell quantities for ``node`` (nm), ``flavour``, ``temp_k``."""
    if node not in NODES:
        raise SramInputError(
            f"node: unknown technology node {node!r}; use one of {sorted(NODES)} (nm)"
        )
    if flavour not in FLAVOURS:
        raise SramInputError(f"flavour: unknown flavour {flavour!r}; use one of {sorted(FLAVOURS)}")
    if not (T_MIN_K <= temp_k <= T_MAX_K):
        raise SramInputError(f"temperature: {temp_k} K outside the tabulated 300-400 K range")
    nd = NODES[node]
    dev = nd.devices[FLAVOURS[flavour]]
    f = nd.feature_um
    cg = dev.c_g_ideal * (1.0 + C_OVERLAP_FRACTION) + dev.c_fringe
    l_diff = L_DIFF_F * f
    cd = dev.c_junc * l_diff + dev.c_junc_sw
    rn = dev.r_nmos_mult * dev.vdd / dev.i_on_n
    rs, cs = zip(*(wire_rc(nd.wires, f, k) for k in range(3)), strict=True)
    rr, rc = zip(
        *(wire_rc(nd.wires, f, k, REPEATED_WIRE_WIDTH_FRAC) for k in range(3)), strict=True
    )
    pitch = tuple(p * f for p in nd.wires.pitch_f)
    # Cell footprint; each port beyond the first adds one wordline track in height and two
    # bitline tracks in width (CACTI 5.1 TR, multiported cell).
    cell_w = f * np.sqrt(CELL_AREA_F2 / CELL_ASPECT) + 2 * (ports - 1) * pitch[0]
    cell_h = f * np.sqrt(CELL_AREA_F2 * CELL_ASPECT) + (ports - 1) * pitch[0]
    return Derived(
        f_um=f,
        vdd=dev.vdd,
        vth=dev.vth,
        cg_f_per_um=cg,
        cd_f_per_um=cd,
        cd_fixed_f=2.0 * l_diff * dev.c_junc_sw,
        rn_ohm_um=rn,
        rp_ohm_um=rn * dev.n2p_drive_ratio,
        ioff_a_per_um=_interp_temp(dev.i_off_n, temp_k),
        igate_a_per_um=_interp_temp(dev.i_g_on_n, temp_k),
        sense_delay_s=nd.sense_delay_s,
        sense_energy_j=nd.sense_energy_j,
        wire_r_ohm_per_um=tuple(rs),
        wire_c_f_per_um=tuple(cs),
        wire_pitch_um=pitch,
        rep_wire_r_ohm_per_um=tuple(rr),
        rep_wire_c_f_per_um=tuple(rc),
        cell_w_um=float(cell_w),
        cell_h_um=float(cell_h),
    )
