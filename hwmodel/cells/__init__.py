"""pns45: an open 45 nm standard-cell library characterized with ngspice on FreePDK45 models.

Cells (transistor netlists and sizing rules) are in :mod:`hwmodel.cells.netlists`; the
characterization method in :mod:`hwmodel.cells.characterize`; the Liberty writer and the one
Liberty reader (with the wire-load model) in :mod:`hwmodel.cells.liberty`; the Verilog cell models
in :mod:`hwmodel.cells.verilog_models`. The committed library
(nom corner, 1.1 V, 25 C) lives in ``hwmodel/cells/lib``; rebuild with
``python -m hwmodel.cells build [--corner ss --vdd 1.0 --temp 25]``.

Typical use::

    from hwmodel.cells import load_library
    lib = load_library()                       # nom, 1.1 V, 25 C
    fa = lib.cell("FA_X1")
    fa.input_cap_ff["A"], fa.area_um2, fa.leakage_avg_nw
    fa.arc("A", "S").interpolate(slew_ns=0.02, load_ff=3.0).delay_rise_ns
    lib.toggle_energy_pj("FA_X1", "S", load_ff=3.0)   # internal + 1/2 C V^2
"""

from .errors import CellLibraryError
from .liberty import DEFAULT_WIRE_LOAD, Liberty, LibertyError, WireLoad, read_liberty
from .library import (
    ArcPoint,
    Cell,
    CellLibrary,
    NldmTable,
    SequentialData,
    TimingArc,
    default_liberty_path,
    default_verilog_models_path,
    library_paths,
    load_library,
)
from .netlists import CELL_NAMES
from .spice import CORNERS, SimSettings

__all__ = [
    "CELL_NAMES",
    "CORNERS",
    "DEFAULT_WIRE_LOAD",
    "ArcPoint",
    "Cell",
    "CellLibrary",
    "CellLibraryError",
    "Liberty",
    "LibertyError",
    "SequentialData",
    "SimSettings",
    "NldmTable",
    "TimingArc",
    "WireLoad",
    "default_liberty_path",
    "default_verilog_models_path",
    "library_paths",
    "load_library",
    "read_liberty",
]
