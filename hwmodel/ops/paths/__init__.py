"""The energy paths of the op table, selected by name from :data:`PATHS`.

* ``default`` (:mod:`hwmodel.ops.paths.default`): the structural RTL's own ``rc_*`` cells,
  zero-delay toggles from the cycle-level simulation, costed with the cell library.
* ``yosys`` (:mod:`hwmodel.ops.paths.yosys`): the unit mapped by Yosys onto the Liberty, simulated
  at gate level zero-delay and timed (glitches included).

Both run on the same core: :mod:`hwmodel.ops.netlist` (one netlist type), :mod:`hwmodel.ops.loads`
(one load model), :mod:`hwmodel.ops.toggles` (one toggle counter), the Liberty reader and cell
models of :mod:`hwmodel.cells`, and the handshake of :mod:`hwmodel.rtlsim`.
"""

from hwmodel.ops.paths import default, yosys
from hwmodel.ops.paths.base import PATHS, EnergyPath, PathJob, get_path, register

__all__ = ["PATHS", "EnergyPath", "PathJob", "default", "get_path", "register", "yosys"]
