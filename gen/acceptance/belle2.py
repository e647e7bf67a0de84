"""Belle II B → K(*) + invisible acceptance (experiments.md §3).

Two layers. (1) Kinematics every B process gets: the visible hadron system h of the signal B
(the K, or the K* = Kπ) gives q²_rec = s/4 + m_h² − √s E*_h (§3.3), computed as the invariant
(P_beams/2 − p_h)², which *is* that formula in the c.m. frame and needs no boost; the B
motion in the c.m. smears it exactly as in data. ``tracks`` flags events with at least one
charged signal-side track and all of them in the CDC polar acceptance (§3.2); the K_S and
K_L of the K⁰ modes stay undecayed in the record, so those modes have no track.

(2) For B± → K± (X or νν̄) the analysis itself: Belle II's published joint number densities
N_ij of generated q² bin j and analysis bin i (HEPData ins2947386, packaged in
``gen/data/belle2``) give the efficiency of each analysis bin as a function of generated q²,
ε_i(q²_j) = N_ij / (N_SM f_j), with N_SM = 2 N_BB̄ f₊₋ BR_SM = 1985 the SM decays the
densities are normalised to and f_j the fraction of SM decays in bin j (physics.md Eq. 20
shape with the §6.2 form factor, integrated per bin). Each event then carries ε_i(q²) as its
selection probability in analysis bin i (a float "selected" column), and the expected
events in bin i are N_B × Σ w ε_i: the folding of arXiv:2507.12393, which holds for a
spin-0 parent whatever its q² distribution (§0, §3.6). The map fixes only ε × (the SM shape
Belle II simulated), so ε inherits the difference between that shape and physics.md's: about
−10 % below q² ≈ 7 GeV² against the Ball–Zwicky 2004 shape of experiments.md §3.6. Analysis bins are named after the
likelihood's channels: ``ITA_SR_eta{1,2,3}_{low,mid,high}`` (channel A: η(BDT2) bin major,
q²_rec bin minor), ``ITA_CR_{low,mid,high}`` (channel B, η(BDT2) ∈ [0.92, 0.94]) and
``HTA_1 … HTA_6`` (channel ``sgn1_had``), with the sums ``ITA`` (η > 0.92), ``ITA_SR``
(η > 0.94) and ``HTA``. Other B modes have no published map: they get (1) only.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any, ClassVar

import numpy as np

from gen import pdg
from gen.options import option, record
from gen.production.upsilon4s import OTHER_B_SLOT, SIGNAL_B_SLOT
from matrix_elements.form_factors.b_k import F_PLUS, bsz
from matrix_elements.widths import dwidth_dq2_p_to_pprime_nunu
from phase_space._jit import batch_kernel, kernel, stage
from phase_space.block import (
    BLOCK,
    OBSERVABLE,
    P_ROWS,
    Q2,
    SELECTED,
    TMP,
    fill,
    get,
    load_rows,
    move,
    p_row,
    scratch,
)
from phase_space.simd_math import acos, sqrt

# generated-q² binning of the number densities [C, knunu-mini reinterpretation-mini.py]: an
# underflow bin (−1, 0) and 100 bins of 0.22885 GeV² up to 22.885 ≈ (m_B − m_K)²
Q2_GEN_EDGES = np.concatenate([[-1.0], np.linspace(0.0, 22.885, 101)])
# the SM expectation the densities are normalised to: 2 N_BB̄ f₊₋ BR_SM(short distance)
# = 2 × 387e6 × 0.516 × 4.97e-6 [M, experiments.md §3.6; the published templates check it]
N_BB_PUBLISHED = 387.0e6
F_PLUS_MINUS_PUBLISHED = 0.516
BR_SM_PUBLISHED = 4.97e-6
N_SM_PUBLISHED = 2.0 * N_BB_PUBLISHED * F_PLUS_MINUS_PUBLISHED * BR_SM_PUBLISHED

ETA_BINS = ("eta1", "eta2", "eta3")
Q2_REC_BINS = ("low", "mid", "high")
ITA_SR_BINS = tuple(f"ITA_SR_{eta}_{q2}" for eta in ETA_BINS for q2 in Q2_REC_BINS)
ITA_CR_BINS = tuple(f"ITA_CR_{q2}" for q2 in Q2_REC_BINS)
HTA_BINS = tuple(f"HTA_{i}" for i in range(1, 7))
ANALYSIS_BINS = ITA_SR_BINS + ITA_CR_BINS + HTA_BINS  # the rows of the three densities, in order
TOTALS = {"ITA": ITA_SR_BINS + ITA_CR_BINS, "ITA_SR": ITA_SR_BINS, "HTA": HTA_BINS}
DENSITY_FILES = (
    ("number_density_ita_regA.csv", ITA_SR_BINS),
    ("number_density_ita_regB.csv", ITA_CR_BINS),
    ("number_density_hta.csv", HTA_BINS),
)
PID_B_PLUS = 521
PID_K_PLUS = 321


def data_file(name: str) -> Any:
    """A packaged Belle II data file (``gen/data/belle2``, see its README)."""
    return resources.files("gen") / "data" / "belle2" / name


@cache
def number_densities() -> np.ndarray:
    """N_ij (expected SM events) as one (18, 101) array, rows :data:`ANALYSIS_BINS`, columns
    the generated-q² bins of :data:`Q2_GEN_EDGES`."""
    rows = []
    for name, bins in DENSITY_FILES:
        with data_file(name).open() as f:
            density = np.loadtxt(f, delimiter=",", ndmin=2)
        if density.shape != (len(bins), Q2_GEN_EDGES.size - 1):
            raise ValueError(f"{name}: expected {len(bins)} x {Q2_GEN_EDGES.size - 1} values, got {density.shape}")
        rows.append(density)
    return np.concatenate(rows)


def sm_fractions() -> np.ndarray:
    """f_j: the fraction of SM B⁺ → K⁺νν̄ decays in each generated-q² bin (underflow: 0).

    dΓ/dq² ∝ f₊(q²)² λ^{3/2} (physics.md Eq. 20, §4.1 with the §6.2 f₊), Gauss–Legendre per bin.
    """
    m_b, m_k = pdg.mass(PID_B_PLUS), pdg.mass(PID_K_PLUS)
    q2_end = (m_b - m_k) ** 2
    ff = F_PLUS.to_array()
    nodes, weights = np.polynomial.legendre.leggauss(24)

    def rate(lo: float, hi: float) -> float:
        if hi <= lo:
            return 0.0
        q2 = lo + 0.5 * (hi - lo) * (nodes + 1.0)
        f_plus = np.array([bsz(x, ff) for x in q2])
        return 0.5 * (hi - lo) * float(weights @ dwidth_dq2_p_to_pprime_nunu(q2, 1.0, f_plus, m_b, m_k))

    edges = np.clip(Q2_GEN_EDGES, 0.0, q2_end)
    per_bin = np.array([rate(lo, hi) for lo, hi in itertools.pairwise(edges)])
    # the total by the same bins (each smooth), plus the sliver between 22.885 and the endpoint
    return per_bin / (per_bin.sum() + rate(edges[-1], q2_end))


@cache
def efficiency_table() -> tuple[np.ndarray, tuple[str, ...]]:
    """(ε[r, j], region names r): the analysis bins then the totals, per generated-q² bin j,
    plus a last all-zero column for q² beyond the binning (events are looked up by bin).

    The HTA density has 0.2 % of its events in the underflow bin (q²_gen < 0, impossible for
    νν̄); each row's underflow is shared over its other bins in proportion, so every row still
    sums to its published template without biasing the first bin.
    """
    density = number_densities().copy()
    physical = density[:, 1:].sum(axis=1, keepdims=True)
    density[:, 1:] *= (physical + density[:, :1]) / physical
    density[:, 0] = 0.0
    fractions = sm_fractions()
    expected = N_SM_PUBLISHED * fractions
    efficiency = np.divide(density, expected, out=np.zeros_like(density), where=expected > 0.0)
    rows = [efficiency]
    names = list(ANALYSIS_BINS)
    for total, members in TOTALS.items():
        rows.append(efficiency[[ANALYSIS_BINS.index(m) for m in members]].sum(axis=0, keepdims=True))
        names.append(total)
    table = np.concatenate(rows)
    return np.concatenate([table, np.zeros((table.shape[0], 1))], axis=1), tuple(names)


def q2_gen_bin(q2: np.ndarray) -> np.ndarray:
    """Column of :func:`efficiency_table` for generated q² (GeV²); beyond the binning: the last."""
    n_bins = Q2_GEN_EDGES.size - 1
    index = np.searchsorted(Q2_GEN_EDGES, q2, side="right") - 1
    return np.where((index < 0) | (index >= n_bins), n_bins, index)


@dataclass(frozen=True)
class Belle2Cuts:
    """Geometric acceptance of the signal-side tracks (experiments.md §3.2)."""

    ORDERED: ClassVar = (("theta_min", "theta_max"),)

    theta_min: float = option(17.0, "CDC polar-angle acceptance, lower edge [M]", unit="deg",
                              check=lambda x: 0 <= x < 180, expected="an angle in [0, 180)")
    theta_max: float = option(150.0, "CDC polar-angle acceptance, upper edge [M]", unit="deg",
                              check=lambda x: 0 < x <= 180, expected="an angle in (0, 180]")


OBSERVABLES = ("q2", "q2_rec", "p_h", "theta_h")
HADRON = TMP  # scratch rows of the hadron system's momentum
TRACK = TMP + 4  # of the track being tested
Q2_BIN = TMP + 8  # the generated-q² column of the efficiency table


@kernel
def _column(q2, edges):
    """Column of :func:`efficiency_table` for generated q² ``q2`` (GeV²): the bin of ``edges``
    (numpy's searchsorted(side="right") − 1), and the last column beyond the binning."""
    lo = 0
    hi = edges.shape[0]
    while lo < hi:  # first edge > q2
        mid = (lo + hi) // 2
        if edges[mid] <= q2:
            lo = mid + 1
        else:
            hi = mid
    index = lo - 1
    n_bins = edges.shape[0] - 1
    return n_bins if index < 0 or index >= n_bins else index


@stage
def block(s, first, key, cuts, hadron_slot, track_slots, table, edges):  # noqa: ARG001
    """The Belle II observables and selections of every lane of the scratch block ``s``.

    Rows OBSERVABLE + j: :data:`OBSERVABLES` (q² and q²_rec = (P_beams/2 − p_h)² in GeV²,
    |p_h| in GeV and θ_h in rad of the hadron system in slot ``hadron_slot``; beams in slots 0
    and 1). Row SELECTED: 1 when every ``track_slots`` track is inside the CDC polar range of
    the cut record (degrees), 0 otherwise or without a track. Rows SELECTED + 1 + r: the
    selection probability ``table[r, column(q²)]`` (an empty ``table`` for modes without a
    published map).
    """
    c = cuts[0]
    cos_min = math.cos(math.radians(c.theta_max))
    cos_max = math.cos(math.radians(c.theta_min))
    move(s, p_row(hadron_slot, 0), HADRON, 4)
    for lane in range(BLOCK):
        beams = get(s, 0, P_ROWS, lane)
        beam2 = get(s, 1, P_ROWS, lane)
        h = get(s, 0, HADRON, lane)
        d = (0.5 * (beams[0] + beam2[0]) - h[0], 0.5 * (beams[1] + beam2[1]) - h[1],
             0.5 * (beams[2] + beam2[2]) - h[2], 0.5 * (beams[3] + beam2[3]) - h[3])
        momentum = sqrt(h[1] * h[1] + h[2] * h[2] + h[3] * h[3])
        s[OBSERVABLE, lane] = s[Q2, lane]
        s[OBSERVABLE + 1, lane] = d[0] * d[0] - d[1] * d[1] - d[2] * d[2] - d[3] * d[3]
        s[OBSERVABLE + 2, lane] = momentum
        s[OBSERVABLE + 3, lane] = acos(h[3] / momentum) if momentum > 0.0 else 0.0
    # no charged track (K_S/K_L left undecayed): not reconstructed
    fill(s, SELECTED, 1.0 if track_slots.shape[0] > 0 else 0.0)
    for t in range(track_slots.shape[0]):
        move(s, p_row(track_slots[t], 0), TRACK, 4)
        for lane in range(BLOCK):
            track = get(s, 0, TRACK, lane)
            norm = sqrt(track[1] * track[1] + track[2] * track[2] + track[3] * track[3])
            cos_theta = track[3] / norm if norm > 0.0 else 1.0
            inside = (cos_min <= cos_theta) & (cos_theta <= cos_max)
            s[SELECTED, lane] = s[SELECTED, lane] if inside else 0.0
    if table.shape[0] > 0:
        for lane in range(BLOCK):  # a bin search per lane: its own loop
            s[Q2_BIN, lane] = _column(s[Q2, lane], edges)
        for r in range(table.shape[0]):
            for lane in range(BLOCK):
                s[SELECTED + 1 + r, lane] = table[r, int(s[Q2_BIN, lane])]


@batch_kernel(events=2, axis=1, min_per_thread=BLOCK)
def _observe(key, first_event, p, q2, cuts, hadron_slot, track_slots, table, edges, observables, selected,
             start, stop):
    """Batch form of :func:`block` on lab momenta ``p[4, n, k]``: ``observables[4, n]``,
    ``selected[1 + table rows, n]``."""
    s = scratch()
    for i0 in range(start, stop, BLOCK):
        n = min(BLOCK, stop - i0)
        load_rows(s, P_ROWS, p, i0, n)
        for lane in range(BLOCK):
            s[Q2, lane] = q2[i0 + min(lane, n - 1)]
        block(s, first_event + i0, key, cuts, hadron_slot, track_slots, table, edges)
        for lane in range(n):
            for j in range(observables.shape[0]):
                observables[j, i0 + lane] = s[OBSERVABLE + j, lane]
            for j in range(selected.shape[0]):
                selected[j, i0 + lane] = s[SELECTED + j, lane]


@dataclass(frozen=True)
class Belle2Acceptance:
    """Belle II: q²_rec, the CDC track acceptance and, for B± → K±, the published efficiencies."""

    cuts: Belle2Cuts = field(default_factory=Belle2Cuts)
    name: str = "belle2"
    regions: tuple[str, ...] = ("tracks",)
    observables: tuple[str, ...] = OBSERVABLES
    flag_regions: tuple[str, ...] = ("tracks",)  # the others are selection probabilities
    signal_regions: tuple[str, ...] = ("tracks",)
    signatures: tuple[str, ...] = ("b_meson",)
    setups: tuple[str, ...] = ("belle2",)
    hadron_slot: int = -1
    track_slots: tuple[int, ...] = ()
    published_maps: bool = False

    @property
    def efficiency(self) -> dict[str, float]:
        return dict.fromkeys(self.regions, 1.0)

    def for_record(self, context: dict[str, Any]) -> Belle2Acceptance:
        """This model bound to the run's record (``context["topology"]``, the Belle II one)."""
        topology = context["topology"]
        signal_b = SIGNAL_B_SLOT
        hadrons = [
            s for s in range(topology.n_slots)
            if topology.mothers[s] == signal_b and topology.labels[s] not in ("X", "nu", "nu~")
        ]
        if len(hadrons) != 1:
            raise ValueError(f"expected one hadron from the signal B, got slots {hadrons}")
        tracks = tuple(
            s for s in range(OTHER_B_SLOT + 1, topology.n_slots)
            if topology.status[s] == 1 and pdg.charge(int(topology.pids[0, s])) != 0
        )
        published = (abs(int(topology.pids[0, signal_b])) == PID_B_PLUS
                     and abs(int(topology.pids[0, hadrons[0]])) == PID_K_PLUS)
        regions = ("tracks", *efficiency_table()[1]) if published else ("tracks",)
        return replace(self, regions=regions, signal_regions=("ITA", "HTA") if published else ("tracks",),
                       hadron_slot=hadrons[0], track_slots=tracks, published_maps=published)

    def apply(
        self, p: np.ndarray, pid: np.ndarray, q2: np.ndarray, context: dict[str, Any], seed: int,  # noqa: ARG002
        first_event: int, v: np.ndarray | None = None,  # noqa: ARG002
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Observables (q² and q²_rec in GeV², p_h in GeV, θ_h in rad) and, per region, the
        pass flag (``tracks``) or the selection probability ε_i(q²) (analysis bins)."""
        if self.hadron_slot < 0:
            raise RuntimeError("Belle2Acceptance.apply before for_record()")
        n = p.shape[1]
        observables = np.empty((len(OBSERVABLES), n))
        _, (key, cuts, hadron_slot, track_slots, table, edges) = self.stage(context, seed)
        per_event = np.empty((1 + table.shape[0], n))  # rows contiguous: the running sums read them in place
        _observe(key, np.int64(first_event), p, np.ascontiguousarray(q2, dtype=np.float64), cuts, hadron_slot,
                 track_slots, table, edges, observables, per_event)
        selected = dict(zip(self.regions, per_event, strict=True))
        selected["tracks"] = per_event[0] > 0.5
        return dict(zip(OBSERVABLES, observables, strict=True)), selected

    def stage(self, context: dict[str, Any], seed: int) -> tuple[Any, tuple]:  # noqa: ARG002
        """The block stage of the fused kernel (``gen.pipeline``) and its arguments (no random
        numbers: the key is unused)."""
        if self.hadron_slot < 0:
            raise RuntimeError("Belle2Acceptance.stage before for_record()")
        return block, (np.uint64(0), record(self.cuts), np.int64(self.hadron_slot),
                       np.array(self.track_slots, dtype=np.int64), self.table(), Q2_GEN_EDGES)

    def table(self) -> np.ndarray:
        """The selection-probability table of the published analysis bins (rows: the regions
        after ``tracks``), or an empty one."""
        return efficiency_table()[0] if self.published_maps else np.zeros((0, Q2_GEN_EDGES.size))
