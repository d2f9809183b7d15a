"""Drive a whole GEMM through the RTL systolic arrays (``rtl/systolic/sa_ws.v``, ``sa_os.v``) in
the timing contract's fold order: the per-cycle values of every input port, the cycle and column
at which every result must leave the array, and the bit-exact reference those results must equal.

The GEMM is ``out[M, N] = sum_k a[M, K] * w[K, N]`` on an ``R x C`` array of floating-point PEs.
Rounding order (both dataflows, and the reference): every output element is one unfused
multiply-accumulate chain in k order from +0, ``acc = round(acc + round(a[m, k] * w[k, n]))``
for k = 0 .. K-1, exactly ``rtl/model/fp_ref.fp_mac_ref`` with a clear on the first term.

* ``ws`` (rows <- K, columns <- N, stream T = M): folds in the order ``for nf: for kf:`` (the K
  folds of a column block back to back). A column adds its rows in k order; a K fold continues
  the sum of the previous one: its partial sums re-enter at the top of the columns (``ps_in``),
  so the K folds chain in k order with no extra adder and the result equals the sequential
  chain. Every fold's outputs (partial sums of the earlier K folds too) are expected events, so
  each is checked where it is produced. Rows beyond K and columns beyond N are padded with +0
  (adding round(+0 * +0) = +0 to a partial sum never changes it: the chain from +0 never holds
  -0), so padding is invisible in the results.
* ``os`` (rows <- M, columns <- N, stream T = K): folds ``for mf: for nf:``; each PE is an fp_mac
  that starts from +0 on its first term; K is never split. Rows beyond M and columns beyond N are
  padded with +0 and their results are not checked (their timing is).

Cycle numbering: cycle 0 is the first cycle with an operand on an input (a weight being loaded for
``ws``, ``a[0, 0]`` for ``os``); a result "leaves at cycle c" when it is on ``y`` with
``y_valid`` high during cycle c (registered: computed in cycle c - 1). The last result leaves at
cycle :func:`hwmodel.accel.timing.gemm_cycles`, which is the GEMM's cycle count from the first
operand in to the last result out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hwmodel.accel.timing import fold_cycles, gemm_cycles, gemm_dims
from hwmodel.errors import HwmodelError
from hwmodel.ops.streams import NumberFormat, make_stream
from rtl.model import fp_ref

#: Dataflows the RTL arrays implement.
RTL_DATAFLOWS = ("ws", "os")


class DriveError(HwmodelError):
    """A GEMM or array that the RTL arrays cannot run as asked (one line naming the fix)."""


def fp_format(exp_w: int, man_w: int) -> fp_ref.FpFormat:
    """The reference format with these field widths (fp16, bf16, fp32 by name, else generic)."""
    for f in fp_ref.FORMATS.values():
        if (f.exp_w, f.man_w) == (exp_w, man_w):
            return f
    return fp_ref.FpFormat(f"e{exp_w}m{man_w}", exp_w, man_w)


def number_format(exp_w: int, man_w: int) -> NumberFormat:
    """The operand-stream format (:mod:`hwmodel.ops.streams`) with these field widths."""
    f = fp_format(exp_w, man_w)
    return NumberFormat(f.name, "float", f.nbits, exp_w, man_w)


def gemm_operands(m: int, n: int, k: int, exp_w: int, man_w: int, seed: int = 0,
                  kind: str = "uniform") -> tuple[np.ndarray, np.ndarray]:
    """``(a[M, K], w[K, N])`` as raw bit patterns drawn like the op-characterization streams
    (:func:`hwmodel.ops.streams.make_stream`, port ``a`` for a and ``b`` for w; uniform operands
    keep every sum of ``k`` products finite)."""
    s = make_stream(kind, number_format(exp_w, man_w), max(m * k, k * n), seed, dot_length=k)
    return (s["a"][: m * k].reshape(m, k).astype(np.uint64),
            s["b"][: k * n].reshape(k, n).astype(np.uint64))


def reference_chain(a: np.ndarray, w: np.ndarray, exp_w: int, man_w: int) -> np.ndarray:
    """``acc[k + 1, m, n]`` after term k of ``acc = round(acc + round(a[m, k] * w[k, n]))`` from
    ``acc[0] = +0`` (raw bits): ``acc[K]`` is the GEMM, ``acc[k]`` a partial sum over k terms."""
    f = fp_format(exp_w, man_w)
    m, k = a.shape
    n = w.shape[1]
    acc = np.zeros((k + 1, m, n), dtype=np.uint64)
    for t in range(k):
        p = fp_ref.fp_mul_ref(np.repeat(a[:, t:t + 1], n, axis=1), np.repeat(w[t:t + 1, :], m,
                                                                             axis=0), f)
        acc[t + 1] = fp_ref.fp_add_ref(acc[t], p, f)
    return acc


@dataclass(frozen=True)
class OutEvent:
    """One result leaving the array: during ``cycle`` on column ``col``; ``m, n`` its GEMM element
    (-1 for a padded row or column), ``terms`` how many k terms it sums, ``want`` its bits
    (None for padding: value unchecked)."""

    cycle: int
    col: int
    m: int
    n: int
    terms: int
    want: int | None


@dataclass
class Schedule:
    """A GEMM driven through an array: ``ports[name][c]`` is the value (int, bus bits packed
    element 0 in the low bits) of input ``name`` during cycle c; ``events`` every result in cycle
    order; ``feedback[(c, j)] = e``: during cycle c column j's ``ps_in`` carries the result of
    event e (ws: a K fold continuing the previous one; the schedule holds the reference value,
    a live testbench may substitute the array's own)."""

    dataflow: str
    rows: int
    cols: int
    m: int
    n: int
    k: int
    exp_w: int
    man_w: int
    ports: dict[str, list[int]]
    widths: dict[str, int]
    events: list[OutEvent]
    feedback: dict[tuple[int, int], int] = field(default_factory=dict)

    @property
    def nb(self) -> int:
        """Bits per operand."""
        return 1 + self.exp_w + self.man_w

    @property
    def cycles(self) -> int:
        """Cycles from the first operand in (cycle 0) to the last result out."""
        return max(e.cycle for e in self.events)

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the GEMM (M N K; padding excluded)."""
        return self.m * self.n * self.k

    @property
    def length(self) -> int:
        """Cycles the port lists cover (0 .. the last result's cycle)."""
        return len(next(iter(self.ports.values())))

    def expected_cycles(self) -> int:
        """The timing contract's count, :func:`hwmodel.accel.timing.gemm_cycles`."""
        return gemm_cycles(self.dataflow, self.rows, self.cols, self.m, self.n, self.k)


class _Ports:
    """Per-cycle port values under construction; a slot written twice is a scheduling bug."""

    def __init__(self, widths: dict[str, int], nb: int, length: int) -> None:
        self.widths, self.nb = widths, nb
        self.vals = {p: [0] * length for p in widths}
        self.set_slots: set[tuple[str, int, int]] = set()

    def put(self, port: str, cycle: int, elem: int, value: int, bits: int | None = None) -> None:
        w = self.nb if bits is None else bits
        key = (port, cycle, elem)
        if key in self.set_slots:
            raise DriveError(f"schedule writes {port}[{elem}] twice in cycle {cycle}")
        self.set_slots.add(key)
        self.vals[port][cycle] |= (int(value) & ((1 << w) - 1)) << (elem * w)


def _check(dataflow: str, rows: int, cols: int, m: int, n: int, k: int) -> None:
    if dataflow not in RTL_DATAFLOWS:
        raise DriveError(f"dataflow {dataflow!r}: the RTL arrays implement "
                         f"{', '.join(RTL_DATAFLOWS)}")
    if min(rows, cols) < 1 or min(m, n, k) < 1:
        raise DriveError(f"array {rows}x{cols}, GEMM {m}x{n}x{k}: every size must be >= 1")


def schedule(dataflow: str, rows: int, cols: int, a: np.ndarray, w: np.ndarray, exp_w: int,
             man_w: int) -> Schedule:
    """Every input port's value per cycle and every expected result for the GEMM ``a @ w``
    (raw bits, ``a[M, K]``, ``w[K, N]``) on the ``rows x cols`` array of ``dataflow``."""
    m, k = a.shape
    k2, n = w.shape
    if k2 != k:
        raise DriveError(f"a is {m}x{k} but w is {k2}x{n}; the inner sizes must agree")
    _check(dataflow, rows, cols, m, n, k)
    acc = reference_chain(a, w, exp_w, man_w)
    nb = 1 + exp_w + man_w
    length = gemm_cycles(dataflow, rows, cols, m, n, k) + 1
    if dataflow == "ws":
        return _schedule_ws(rows, cols, a, w, acc, exp_w, man_w, nb, length)
    return _schedule_os(rows, cols, a, w, acc, exp_w, man_w, nb, length)


def _schedule_ws(rows: int, cols: int, a: np.ndarray, w: np.ndarray, acc: np.ndarray,
                 exp_w: int, man_w: int, nb: int, length: int) -> Schedule:
    m, k = a.shape
    n = w.shape[1]
    widths = {"w_load": 1, "w_in": cols * nb, "a_in": rows * nb, "a_valid": rows,
              "ps_in": cols * nb}
    P = _Ports(widths, nb, length)
    sr, sc, t = gemm_dims("ws", m, n, k)
    fold = fold_cycles("ws", rows, cols, t)
    events: list[OutEvent] = []
    feedback: dict[tuple[int, int], int] = {}
    last_event: dict[tuple[int, int], int] = {}  # (m, n) -> event index of its latest result
    f = 0
    for n0 in range(0, sc, cols):
        for k0 in range(0, sr, rows):
            s = f * fold
            for c in range(rows):  # weights shift in, bottom row's first
                P.put("w_load", s + c, 0, 1, 1)
                kk = k0 + rows - 1 - c
                for j in range(cols):
                    if kk < k and n0 + j < n:
                        P.put("w_in", s + c, j, int(w[kk, n0 + j]))
            terms = min(k0 + rows, k)
            for mm in range(t):
                for i in range(rows):
                    cyc = s + rows + mm + i
                    P.put("a_valid", cyc, i, 1, 1)
                    if k0 + i < k:
                        P.put("a_in", cyc, i, int(a[mm, k0 + i]))
                for j in range(cols):
                    nn = n0 + j
                    if k0 > 0 and nn < n:
                        cyc = s + rows + mm + j
                        e = last_event[(mm, nn)]
                        P.put("ps_in", cyc, j, int(acc[k0, mm, nn]))
                        feedback[(cyc, j)] = e
                    out = s + 2 * rows + mm + j
                    if nn < n:
                        events.append(OutEvent(out, j, mm, nn, terms, int(acc[terms, mm, nn])))
                        last_event[(mm, nn)] = len(events) - 1
                    else:
                        events.append(OutEvent(out, j, -1, -1, terms, None))
            f += 1
    order = sorted(range(len(events)), key=lambda i: (events[i].cycle, events[i].col))
    remap = {old: new for new, old in enumerate(order)}
    return Schedule("ws", rows, cols, m, n, k, exp_w, man_w, P.vals, widths,
                    [events[i] for i in order], {key: remap[e] for key, e in feedback.items()})


def _schedule_os(rows: int, cols: int, a: np.ndarray, w: np.ndarray, acc: np.ndarray,
                 exp_w: int, man_w: int, nb: int, length: int) -> Schedule:
    m, k = a.shape
    n = w.shape[1]
    widths = {"a_in": rows * nb, "w_in": cols * nb, "w_valid": cols, "w_first": cols,
              "w_last": cols}
    P = _Ports(widths, nb, length)
    sr, sc, t = gemm_dims("os", m, n, k)
    fold = fold_cycles("os", rows, cols, t)
    events: list[OutEvent] = []
    f = 0
    for m0 in range(0, sr, rows):
        for n0 in range(0, sc, cols):
            s = f * fold
            for kk in range(t):
                for i in range(rows):
                    if m0 + i < m:
                        P.put("a_in", s + kk + i, i, int(a[m0 + i, kk]))
                for j in range(cols):
                    cyc = s + kk + j
                    if n0 + j < n:
                        P.put("w_in", cyc, j, int(w[kk, n0 + j]))
                    P.put("w_valid", cyc, j, 1, 1)
                    P.put("w_first", cyc, j, int(kk == 0), 1)
                    P.put("w_last", cyc, j, int(kk == t - 1), 1)
            for i in range(rows):
                for j in range(cols):
                    out = s + t + 2 * rows - 1 + j - i
                    mm, nn = m0 + i, n0 + j
                    if mm < m and nn < n:
                        events.append(OutEvent(out, j, mm, nn, k, int(acc[k, mm, nn])))
                    else:
                        events.append(OutEvent(out, j, -1, -1, k, None))
            f += 1
    events.sort(key=lambda e: (e.cycle, e.col))
    return Schedule("os", rows, cols, m, n, k, exp_w, man_w, P.vals, widths, events)


def check_outputs(sched: Schedule, got: list[tuple[int, int, int]]) -> list[str]:
    """Compare what the array put out, ``(cycle, column, bits)`` for every cycle and column with
    ``y_valid`` high, with the schedule's events: the same (cycle, column) set, and every checked
    value equal to the reference (a NaN must be the canonical quiet NaN). Returns one line per
    problem (empty: all good)."""
    f = fp_format(sched.exp_w, sched.man_w)
    want = {(e.cycle, e.col): e for e in sched.events}
    seen = {(c, j): v for c, j, v in got}
    problems: list[str] = []
    for key in sorted(set(seen) - set(want))[:5]:
        problems.append(f"unexpected result on column {key[1]} in cycle {key[0]}")
    for key in sorted(set(want) - set(seen))[:5]:
        e = want[key]
        problems.append(f"no result on column {e.col} in cycle {e.cycle} (element "
                        f"({e.m}, {e.n}), {e.terms} terms)")
    checked = [(e, seen[(e.cycle, e.col)]) for e in sched.events
               if e.want is not None and (e.cycle, e.col) in seen]
    if checked:
        g = np.array([v for _, v in checked], dtype=np.uint64)
        r = np.array([e.want for e, _ in checked], dtype=np.uint64)
        bad = np.flatnonzero(fp_ref.mismatches(g, r, f))
        width = (f.nbits + 3) // 4
        for i in bad[:8]:
            e = checked[i][0]
            problems.append(f"element ({e.m}, {e.n}) after {e.terms} terms, cycle {e.cycle} "
                            f"column {e.col}: array {int(g[i]):0{width}x}, reference "
                            f"{int(r[i]):0{width}x}")
        if len(bad) > 8:
            problems.append(f"... {len(bad)} of {len(checked)} results differ")
    return problems
