"""Blocks of events in a scratch array: the layout every fused generation kernel shares.

A generation kernel works on ``BLOCK`` events at a time in a scratch array ``s[row, lane]``
(float64, ``N_ROWS × BLOCK``, allocated once per kernel call). Each stage of the chain —
matrix element, beam, vertices, acceptance — is a function with loops ``for lane in
range(BLOCK)`` that read and write whole rows. Three things make those loops vectorise: the
trip count is a constant; the scratch array is the kernel's own allocation, so LLVM knows
its row stride and that no argument array overlaps it (the stages are inlined into the
kernel for that); and no libm call (:mod:`phase_space.simd_math` replaces those). Between
stages the data stay in the core's cache (a block is ~215 KB), and they reach the caller's
arrays once, in the final copy.

Lane loops index ``s`` with compile-time constant rows only; rows whose index depends on
the record (a slot) are reached through a view of their own (:func:`rows`), or copied to
constant rows with :func:`move`: a store to a runtime row of ``s`` defeats the vectoriser.

Rows (``s[row, :]`` is one quantity for the BLOCK events):

- ``p_row(slot, c)``: component c (E, px, py, pz) of the momentum of record slot ``slot``;
- ``v_row(slot, c)``: component c (x, y, z, ct) of its production vertex;
- per-event scalars: WEIGHT (the integrand × VEGAS Jacobian), Q2, WEIGHT_FACTOR (of the
  production setup, 1 by default), CONJUGATE (1 for the charge-conjugate event), NU_PID
  (the neutrino PDG id drawn), CHOICE_PID (a per-event PDG id, e.g. K_S or K_L), ROOT_DECAY
  (x, y, z, ct of the parent's decay when the setup places it), VEGAS_X (the mapped point),
  OBSERVABLE and SELECTED (what the acceptance fills), TMP (a stage's temporaries).

Lanes past the last event of a range are computed from valid counters too (and thrown away),
so no loop needs a remainder. This module knows no physics: the stages live with their
physics, the composition in ``gen.pipeline``.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from phase_space._jit import helper, kernel
from phase_space.kinematics import boost_with
from phase_space.random import STRIDE, uniform
from phase_space.vegas_map import map_coordinate

BLOCK = 128
"""Events per block: a multiple of every vector width, and the block (~215 KB) stays in the L2
cache. Measured against 64 lanes: NA62 with the record 125 → 113 ns per event and thread;
256 gains no more. (Likely why: each block pays every stage loop's set-up and the fetch of a
fused kernel of ~12 000 instructions once, and 64 lanes are only 8 passes of a vector loop.)"""

MAX_SLOTS = 16
"""Particles per event a block holds (the largest record, Belle II B⁺ → K*⁺(K⁺ π⁰(→ γγ)) X,
has 13; ``gen.pipeline`` refuses a record that does not fit)."""

MAX_DIM = 8
"""VEGAS dimensions a block holds."""

P_ROWS = 0
V_ROWS = P_ROWS + 4 * MAX_SLOTS
WEIGHT = V_ROWS + 4 * MAX_SLOTS
JACOBIAN = WEIGHT + 1
Q2 = JACOBIAN + 1
WEIGHT_FACTOR = Q2 + 1
CONJUGATE = WEIGHT_FACTOR + 1
NU_PID = CONJUGATE + 1
CHOICE_PID = NU_PID + 1
ROOT_DECAY = CHOICE_PID + 1  # four rows
VEGAS_X = ROOT_DECAY + 4
N_OBSERVABLES = 8
OBSERVABLE = VEGAS_X + MAX_DIM
N_SELECTED = 24
SELECTED = OBSERVABLE + N_OBSERVABLES
N_TMP = 32
TMP = SELECTED + N_SELECTED
BOOST_FACTORS = TMP + N_TMP  # four rows, for boost_slots
N_ROWS = BOOST_FACTORS + 4


@intrinsic
def store_streaming(typingctx, array, index, value):  # noqa: ARG001
    """``array[index] = value`` (1-d, contiguous) as a non-temporal store: the line goes to
    memory without being read into the cache first (no read-for-ownership), which halves the
    memory traffic of a large output array written once; consecutive indices fill lines.
    The store indexes the data pointer directly, so only 1-d C-contiguous arrays are typed."""
    if not (isinstance(array, types.Array) and array.ndim == 1 and array.layout == "C"):
        raise TypeError(f"store_streaming needs a 1-d C-contiguous array, got {array}")
    sig = types.void(array, index, value)

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        data = context.make_array(array_type)(context, builder, args[0]).data
        pointer = builder.gep(data, [args[1]])
        stored = builder.store(context.cast(builder, args[2], signature.args[2], array_type.dtype), pointer)
        stored.set_metadata("nontemporal", builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)]))
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def fence(typingctx):  # noqa: ARG001
    """A full memory fence: streaming stores are weakly ordered, so a kernel that made them
    fences before its results are handed to another thread. On x86-64 an ``sfence`` first,
    the instruction the architecture manuals name for ordering non-temporal stores (LLVM
    lowers the sequentially consistent fence to a locked instruction, which orders them too
    on current CPUs)."""
    sig = types.void()

    def codegen(context, builder, signature, args):  # noqa: ARG001
        if builder.module.triple.startswith(("x86_64", "amd64")):  # the target, not the host
            sfence = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), []),
                                                    "llvm.x86.sse.sfence")
            builder.call(sfence, [])
        builder.fence("seq_cst")
        return context.get_dummy_value()

    return sig, codegen


@helper("int64(int64, int64)")
def p_row(slot, c):
    """Row of momentum component ``c`` (0..3: E, px, py, pz) of record slot ``slot``."""
    return P_ROWS + 4 * slot + c


@helper("int64(int64, int64)")
def v_row(slot, c):
    """Row of vertex component ``c`` (0..3: x, y, z, ct) of record slot ``slot``."""
    return V_ROWS + 4 * slot + c


@kernel
def scratch():
    """A new scratch block ``s[N_ROWS, BLOCK]`` (uninitialised)."""
    return np.empty((N_ROWS, BLOCK))


@helper("void(float64[:, ::1], int64, int64, int64, UniTuple(float64, 4))")
def put(s, slot, rows_base, lane, v):
    """Write the 4-tuple ``v`` into rows ``rows_base + 4·slot + c`` of ``lane``."""
    r = rows_base + 4 * slot
    s[r, lane] = v[0]
    s[r + 1, lane] = v[1]
    s[r + 2, lane] = v[2]
    s[r + 3, lane] = v[3]


@helper("UniTuple(float64, 4)(float64[:, ::1], int64, int64, int64)")
def get(s, slot, rows_base, lane):
    """The 4-tuple in rows ``rows_base + 4·slot + c`` of ``lane``."""
    r = rows_base + 4 * slot
    return (s[r, lane], s[r + 1, lane], s[r + 2, lane], s[r + 3, lane])


@helper("void(float64[:, ::1], int64, int64, int64)")
def move(s, src_row, dst_row, count):
    """Rows ``src_row .. src_row + count − 1`` to ``dst_row ..`` (any overlap).

    Why lane loops write constant rows and leave slot-dependent placement to this: a store
    whose row is a runtime value makes LLVM check it against every other access of the loop
    at run time, and with a handful of them it gives up vectorising ("too many memory
    checks"); a copy loop has one source and one destination.
    """
    if dst_row == src_row:
        return
    for j in range(count):
        # copy in the order that never reads a row already overwritten
        r = count - 1 - j if dst_row > src_row else j
        for lane in range(BLOCK):
            s[dst_row + r, lane] = s[src_row + r, lane]


@kernel
def load_rows(s, base_row, a, i0, n):
    """Rows ``base_row + 4·slot + c`` of the first ``n`` lanes ← ``a[c, i0 + lane, slot]``
    (``a[4, events, slots]``, momenta or vertices); the other lanes repeat lane 0, so every
    lane holds valid numbers."""
    for slot in range(a.shape[2]):
        for c in range(4):
            r = base_row + 4 * slot + c
            for lane in range(n):
                s[r, lane] = a[c, i0 + lane, slot]
            for lane in range(n, BLOCK):
                s[r, lane] = s[r, 0]


@kernel
def store_rows(s, base_row, a, i0, n):
    """``a[c, i0 + lane, slot]`` ← rows ``base_row + 4·slot + c`` for the first ``n`` lanes and
    every slot of ``a`` (the inverse of :func:`load_rows`)."""
    for lane in range(n):
        for slot in range(a.shape[2]):
            r = base_row + 4 * slot
            for c in range(4):
                a[c, i0 + lane, slot] = s[r + c, lane]


@helper("void(float64[:, ::1], int64, float64)")
def fill(s, row, value):
    """Row ``row`` = ``value`` for every lane."""
    for lane in range(BLOCK):
        s[row, lane] = value


@helper("float64[:, ::1](float64[:, ::1], int64, int64)")
def rows(s, first_row, count):
    """Rows ``first_row .. first_row + count − 1`` as an array of their own (a view).

    For rows whose index is a runtime value (a record slot): a loop that reads and writes
    such a view and constant rows of ``s`` has two arrays, which LLVM checks for overlap once,
    and vectorises; indexing ``s`` itself with runtime rows makes it give up (module docstring).
    The check compares whole ranges: a view that lies between rows the same loop reads or
    writes directly in ``s`` fails it at run time, and the loop runs its scalar fallback
    (3× slower, and no compile-time sign of it) — copy such rows with :func:`move` instead.
    """
    return s[first_row : first_row + count]


@kernel
def boost_slots(s, first_slot, stop_slot):
    """Boost the momenta of slots ``first_slot .. stop_slot − 1`` in place by the factors
    (γ, βγ_x, βγ_y, βγ_z) in rows BOOST_FACTORS (``kinematics.boost_factors``): from the
    rest frame of a particle into the frame its momentum is given in."""
    factors = rows(s, BOOST_FACTORS, 4)
    for slot in range(first_slot, stop_slot):
        p = rows(s, p_row(slot, 0), 4)
        for lane in range(BLOCK):
            lab = boost_with(get(p, 0, 0, lane), get(factors, 0, 0, lane))
            put(p, 0, 0, lane, lab)


@kernel
def vegas_point(s, first, key, grid, inc, ninc):
    """The VEGAS point of every lane: uniforms ``y_d`` at counters ``(first + lane)·STRIDE + d``
    of stream ``key``, mapped by the frozen VEGAS map (``phase_space.vegas_map``) into rows
    ``VEGAS_X + d``; the Jacobian dx/dy into row JACOBIAN.

    The uniforms vectorise; the map looks up each point's increment (a gather), which runs
    one lane at a time, so it is a loop of its own.
    """
    dim = ninc.shape[0]
    for d in range(dim):
        for lane in range(BLOCK):
            base = np.uint64(first + lane) * np.uint64(STRIDE)
            s[VEGAS_X + d, lane] = uniform(key, base + np.uint64(d))
    for lane in range(BLOCK):
        s[JACOBIAN, lane] = 1.0
    for d in range(dim):
        n = ninc[d]
        for lane in range(BLOCK):
            x, dx_dy = map_coordinate(s[VEGAS_X + d, lane], grid, inc, d, n)
            s[VEGAS_X + d, lane] = x
            s[JACOBIAN, lane] *= dx_dy
