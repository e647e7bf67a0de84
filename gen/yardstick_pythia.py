"""Pythia 8 as the speed yardstick of ``axgen bench``: K⁺ → π⁺ X, X → ν ν̄ driven from Python.

What is measured
----------------
Pythia 8 (the PyPI wheel ``pythia8mc``) decays the same chain our generator produces,
K⁺ → π⁺ X with X → ν ν̄, in decays-only mode (``ProcessLevel:all = off``). Each event the
Python loop

1. puts one K⁺ at rest into ``pythia.event`` (``event.reset()``, then ``event.append`` of a
   ``Particle`` built once before the loop),
2. calls ``pythia.next()``, which decays K⁺ → π⁺ X and X → ν ν̄,
3. reads the PDG id and (px, py, pz, E) of every final-state particle out of the event
   record; after the loop these become numpy arrays, momenta of shape (n, 3, 4).

Only this loop is timed. Importing ``pythia8mc`` and ``Pythia.init()`` are timed separately
and reported, not counted in the rate. A second, shorter pass with clocks around each step
splits the per-event time into filling the record, ``next()`` and the read-out.

Why this is a fair yardstick
----------------------------
It is what a user who wants these events from Pythia in Python writes, and it ends where our
generator ends: with the four-momenta of π⁺, ν, ν̄ in numpy arrays. Pythia's work per event
is the same chain (one two-body decay, one two-body decay, boosts), and it is not
handicapped: particle data, decay tables and the random-number generator are set up once in
``init()``; the K⁺ is appended as a prebuilt ``Particle`` (appending it from its numbers goes
through pybind11's resolution of 17 overloads, 2 µs more per event); the read-out uses the
fastest complete accessor found: ``Event.particles()`` (one call returns the record), then
per-particle getters into flat lists, made arrays once (iterating ``pythia.event`` or reading
``Particle.p()`` gives 30–40 % fewer events/s). ``Pythia.nextBatch``, the batch accessor to
awkward arrays, cannot be used: in decays-only mode the record is not refilled between its
events, so every "event" is a copy of the first one.

Differences that do not change the cost materially: Pythia decays X → ν ν̄ isotropically in
the X rest frame (flat phase space, X unpolarised), where our generator weights the chain
with |M|² (K⁺ → π⁺ X is isotropic in both); X → ν_e ν̄_e is a single channel, since the
neutrino flavour does not change Pythia's work.

The events that were timed are checked (:func:`check`) before a rate is returned, so a
broken configuration can never be timed: four-momentum conservation, the two-body π⁺
momentum and energy, the ν ν̄ invariant mass = m_X, the ids, and isotropy (which also
catches a loop that returns the same event over and over).

Units: GeV for masses, energies and momenta (Pythia's and axgen's unit); seconds for times.
"""

from __future__ import annotations

import functools
import importlib.metadata
import math
import sys
import time
from typing import Any

import numpy as np

X_PID = 9000023
"""PDG id of X inside Pythia: free in Pythia's particle table (the 9000000 range is for
user particles); axgen's own default, 32, is Pythia's Z'."""

K_PID = 321
PI_PID = 211
NU_PID = 12
"""ν_e: one flavour is enough for a timing (the flavour does not change Pythia's work)."""

FINAL_IDS = (PI_PID, NU_PID, -NU_PID)
"""Final state in the order Pythia writes it: π⁺ (K⁺ daughter), then ν, ν̄ (X daughters)."""

TOLERANCE = 1e-9
"""Kinematic checks pass when every deviation is within TOLERANCE × m_K (GeV)."""

PDG_MASS_TOLERANCE = 1e-4
"""Pythia's masses must agree with the PDG-2024 ones to this relative precision (Pythia
rounds to 5 digits in GeV: m_K = 0.49368 vs 0.493677)."""

BREAKDOWN_EVENTS = 20_000
"""Events in the clocked pass that splits the loop time (fractions are stable to ~1 %)."""


class YardstickError(RuntimeError):
    """Pythia's events fail a physics check: the configuration is broken, do not time it."""


@functools.cache
def _import() -> tuple[Any, float | None]:
    """(the pythia8mc module, seconds its first import took; None if imported elsewhere)."""
    already = "pythia8mc" in sys.modules
    start = time.perf_counter()
    import pythia8mc

    seconds = time.perf_counter() - start
    return pythia8mc, None if already else seconds


def available() -> bool:
    """True if ``pythia8mc`` imports (``pip install "axgen[bench]"``)."""
    try:
        _import()
    except ImportError:
        return False
    return True


def settings(m_x: float, seed: int) -> list[str]:
    """The Pythia settings of the yardstick (m_x in GeV; seed 1 ... 900 000 000)."""
    return [
        # silent: no banner (Pythia("", False)), no init/statistics listings, no event counter
        "Print:quiet = on",
        "Next:numberCount = 0",
        # decays only: no hard process; the loop fills pythia.event with the K⁺ itself
        "ProcessLevel:all = off",
        # X: neutral (chargeType 0) colourless (colType 0) vector (spinType 3), self-conjugate
        # (antiName void); zero width and τ0 = 0, so it always has mass m_X and decays in place.
        # repr() keeps every digit of m_x, so Pythia's m0 is exactly the float passed.
        f"{X_PID}:new = X void 3 0 0 {float(m_x)!r} 0.0 0.0 0.0 0.0",
        f"{X_PID}:mayDecay = on",
        f"{X_PID}:oneChannel = 1 1.0 0 {NU_PID} {-NU_PID}",
        # Pythia keeps K± stable by default (cτ = 3.7 m); the chain needs it to decay
        f"{K_PID}:mayDecay = on",
        f"{K_PID}:oneChannel = 1 1.0 0 {PI_PID} {X_PID}",
        # a fixed seed (Random:seed = 0 would seed from the clock)
        "Random:setSeed = on",
        f"Random:seed = {int(seed)}",
    ]


def two_body_momentum(m_parent: float, m_1: float, m_2: float) -> float:
    """|p| (GeV) of either daughter in the parent's rest frame: √λ(M², m₁², m₂²) / (2M)."""
    s, a, b = m_parent**2, m_1**2, m_2**2
    kallen = s * s + a * a + b * b - 2.0 * (s * a + s * b + a * b)
    return math.sqrt(max(kallen, 0.0)) / (2.0 * m_parent)


def check(
    momenta: np.ndarray, ids: np.ndarray, *, m_k: float, m_pi: float, m_x: float
) -> dict[str, Any]:
    """Physics sanity of K⁺ (at rest) → π⁺ X(→ ν ν̄) events; raises :class:`YardstickError`.

    ``momenta``: shape (n, 3, 4), (px, py, pz, E) in GeV of π⁺, ν, ν̄; ``ids``: shape (n, 3)
    PDG ids; masses in GeV (the ones the generator used). Checked, each to
    :data:`TOLERANCE` × m_K: the final state sums to the K⁺ four-momentum (0, 0, 0, m_K);
    |p⃗_π| equals the two-body momentum and E_π = (m_K² + m_π² − m_X²)/(2 m_K); the ν ν̄
    invariant mass equals m_X. Also: ids in the order π⁺, ν, ν̄, and the π⁺ directions
    isotropic (every mean component of p̂_π within 5/√(3n) of 0).

    Returns the measured deviations and values (GeV) for the report.
    """
    momenta = np.asarray(momenta, dtype=np.float64)
    ids = np.asarray(ids)
    n = len(momenta)
    if n == 0 or momenta.shape != (n, 3, 4) or ids.shape != (n, 3):
        raise YardstickError(
            f"expected momenta (n, 3, 4) and ids (n, 3), n > 0; got {momenta.shape}, {ids.shape}"
        )
    bad_ids = int(np.count_nonzero(np.any(ids != np.array(FINAL_IDS), axis=1)))
    if bad_ids:
        raise YardstickError(f"{bad_ids} of {n} events do not have the final state {FINAL_IDS}")

    scale = TOLERANCE * m_k
    pi, nu, nubar = momenta[:, 0], momenta[:, 1], momenta[:, 2]
    total = momenta.sum(axis=1)
    conservation = float(np.max(np.abs(total - np.array([0.0, 0.0, 0.0, m_k]))))

    p_two_body = two_body_momentum(m_k, m_pi, m_x)
    e_two_body = (m_k**2 + m_pi**2 - m_x**2) / (2.0 * m_k)
    p_pi = np.linalg.norm(pi[:, :3], axis=1)
    p_pi_deviation = float(np.max(np.abs(p_pi - p_two_body)))
    e_pi_deviation = float(np.max(np.abs(pi[:, 3] - e_two_body)))

    x = nu + nubar
    m_nunu = np.sqrt(np.maximum(x[:, 3] ** 2 - np.sum(x[:, :3] ** 2, axis=1), 0.0))
    m_nunu_deviation = float(np.max(np.abs(m_nunu - m_x)))

    direction = pi[:, :3] / p_pi[:, None]
    mean_direction = np.abs(direction.mean(axis=0))
    isotropy_bound = 5.0 / math.sqrt(3.0 * n)

    failures = [
        f"{name} deviates by {value:.3g} GeV > {scale:.3g} GeV"
        for name, value in (
            ("Σ p(π⁺ ν ν̄) − p(K⁺)", conservation),
            ("|p⃗_π| − two-body momentum", p_pi_deviation),
            ("E_π − two-body energy", e_pi_deviation),
            ("m(ν ν̄) − m_X", m_nunu_deviation),
        )
        if not value <= scale  # also fails on NaN
    ]
    if not np.all(mean_direction <= isotropy_bound):
        failures.append(
            f"π⁺ directions not isotropic: |⟨p̂⟩| = {mean_direction} > {isotropy_bound:.3g}"
        )
    if failures:
        raise YardstickError("Pythia events fail the checks: " + "; ".join(failures))
    return {
        "tolerance_gev": scale,
        "four_momentum_max_deviation_gev": conservation,
        "p_pi_two_body_gev": p_two_body,
        "p_pi_mean_gev": float(p_pi.mean()),
        "p_pi_max_deviation_gev": p_pi_deviation,
        "e_pi_max_deviation_gev": e_pi_deviation,
        "m_nunu_mean_gev": float(m_nunu.mean()),
        "m_nunu_max_deviation_gev": m_nunu_deviation,
        "pi_mean_direction": [float(v) for v in direction.mean(axis=0)],
    }


def _pdg_comparison(m_k: float, m_pi: float, m_x: float) -> dict[str, Any]:
    """Pythia's K⁺ and π⁺ masses vs the PDG-2024 ones of axgen (GeV); raises if far apart."""
    from gen import pdg  # the `particle` package's PDG table, as the generator uses it

    pdg_k, pdg_pi = pdg.mass(K_PID), pdg.mass(PI_PID)
    for name, pythia_mass, pdg_mass in (("K+", m_k, pdg_k), ("pi+", m_pi, pdg_pi)):
        if not abs(pythia_mass - pdg_mass) <= PDG_MASS_TOLERANCE * pdg_mass:
            raise YardstickError(
                f"Pythia's {name} mass {pythia_mass} GeV is not the PDG {pdg_mass} GeV"
            )
    p_pdg = two_body_momentum(pdg_k, pdg_pi, m_x)
    return {
        "m_k_pythia_gev": m_k,
        "m_k_pdg_gev": pdg_k,
        "m_k_pythia_minus_pdg_gev": m_k - pdg_k,
        "m_pi_pythia_gev": m_pi,
        "m_pi_pdg_gev": pdg_pi,
        "m_pi_pythia_minus_pdg_gev": m_pi - pdg_pi,
        "p_pi_two_body_pdg_gev": p_pdg,
        "p_pi_two_body_pythia_minus_pdg_gev": two_body_momentum(m_k, m_pi, m_x) - p_pdg,
    }


def _kaon(pythia8mc: Any, m_k: float) -> Any:
    """The K⁺ at rest (GeV) that starts every event; ``Event.append`` copies it."""
    # id, status, mother1, mother2, daughter1, daughter2, col, acol, px, py, pz, E, m
    return pythia8mc.Particle(K_PID, 1, 0, 0, 0, 0, 0, 0, 0.0, 0.0, 0.0, m_k, m_k)


def _event_loop(pythia: Any, kaon: Any, n_events: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Run and read out ``n_events``: (momenta (n, 3, 4) GeV, ids (n, 3), loop seconds)."""
    event = pythia.event
    # bound methods once: attribute look-ups would be Python overhead that is not Pythia's
    reset, append, next_event, particles = event.reset, event.append, pythia.next, event.particles
    ids: list[int] = []
    momenta: list[tuple[float, float, float, float]] = []
    add_id, add_momentum = ids.append, momenta.append
    failed = 0
    start = time.perf_counter()
    for _ in range(n_events):
        reset()  # leaves only the system line, event[0]
        append(kaon)
        if not next_event():
            failed += 1
            continue
        # one call copies the record to a list; then only the getters we need, per particle
        for particle in particles():
            if particle.isFinal():
                add_id(particle.id())
                add_momentum((particle.px(), particle.py(), particle.pz(), particle.e()))
    momentum_array = np.array(momenta, dtype=np.float64)
    id_array = np.array(ids, dtype=np.int64)
    seconds = time.perf_counter() - start
    if failed:
        raise YardstickError(f"pythia.next() failed for {failed} of {n_events} events")
    if len(ids) != 3 * n_events:
        raise YardstickError(
            f"{len(ids)} final-state particles in {n_events} events, expected 3 per event"
        )
    return momentum_array.reshape(n_events, 3, 4), id_array.reshape(n_events, 3), seconds


def _breakdown(pythia: Any, kaon: Any, n_events: int) -> dict[str, float]:
    """Per-event µs of filling the record, ``next()`` and the read-out, from a clocked pass.

    The clocks (three ``perf_counter`` calls, ~0.1 µs per event) make this pass slightly
    slower than the timed loop; only the split is reported from it.
    """
    event = pythia.event
    reset, append, next_event, particles = event.reset, event.append, pythia.next, event.particles
    clock = time.perf_counter
    ids: list[int] = []
    momenta: list[tuple[float, float, float, float]] = []
    fill = generate = read = 0.0
    for _ in range(n_events):
        t0 = clock()
        reset()
        append(kaon)
        t1 = clock()
        next_event()
        t2 = clock()
        for particle in particles():
            if particle.isFinal():
                ids.append(particle.id())
                momenta.append((particle.px(), particle.py(), particle.pz(), particle.e()))
        t3 = clock()
        fill += t1 - t0
        generate += t2 - t1
        read += t3 - t2
    t0 = clock()
    np.array(momenta, dtype=np.float64)
    np.array(ids, dtype=np.int64)
    read += clock() - t0
    total = fill + generate + read
    return {
        "events": n_events,
        "fill_us": 1e6 * fill / n_events,
        "next_us": 1e6 * generate / n_events,
        "readout_us": 1e6 * read / n_events,
        "fill_fraction": fill / total,
        "next_fraction": generate / total,
        "readout_fraction": read / total,
    }


def pythia_k_pi_x(
    n_events: int, m_x: float, seed: int = 1, *, return_events: bool = False
) -> dict[str, Any]:
    """Time Pythia 8 generating ``n_events`` K⁺ (at rest) → π⁺ X(→ ν ν̄) from Python.

    ``m_x`` in GeV, 0 < m_x < m_K − m_π (Pythia's masses); ``seed`` 1 ... 900 000 000 (Pythia's
    range; 0 would seed from the clock). Returns ``events_per_s`` (the event loop only),
    ``loop_s``, ``init_s`` (``Pythia()`` + settings + ``init()``), ``import_s`` (None if
    pythia8mc was imported before), ``version`` (pythia8mc) and ``pythia_version`` (Pythia's
    own), the ``settings``, the ``breakdown`` of the loop time (:func:`_breakdown`, over up to
    :data:`BREAKDOWN_EVENTS` further events) and the ``checks`` (:func:`check` of the timed
    events and the mass comparison with the PDG). ``return_events`` adds the timed events:
    ``momenta`` (n, 3, 4) GeV and ``ids`` (n, 3), rows π⁺, ν, ν̄.

    Raises :class:`YardstickError` if the events fail the checks, ImportError without pythia8mc.
    """
    if n_events < 1:
        raise ValueError(f"n_events must be >= 1, got {n_events}")
    if not 1 <= seed <= 900_000_000:
        raise ValueError(f"seed must be in 1 ... 900000000 (Pythia's range), got {seed}")
    pythia8mc, import_s = _import()

    start = time.perf_counter()
    pythia = pythia8mc.Pythia("", False)  # "" = the wheel's own xmldoc; False = no banner
    m_k, m_pi = pythia.particleData.m0(K_PID), pythia.particleData.m0(PI_PID)
    if not 0.0 < m_x < m_k - m_pi:
        raise ValueError(f"m_x must be in (0, m_K - m_pi) = (0, {m_k - m_pi}) GeV, got {m_x}")
    if pythia.particleData.isParticle(X_PID):
        raise YardstickError(f"PDG id {X_PID} is already a particle in Pythia's table")
    lines = settings(m_x, seed)
    for line in lines:
        if not pythia.readString(line):
            raise YardstickError(f"Pythia rejected the setting {line!r}")
    if not pythia.init():
        raise YardstickError("Pythia.init() failed")
    init_s = time.perf_counter() - start
    if pythia.particleData.m0(X_PID) != m_x:
        raise YardstickError(f"Pythia's m_X is {pythia.particleData.m0(X_PID)}, not {m_x} GeV")

    kaon = _kaon(pythia8mc, m_k)
    momenta, ids, loop_s = _event_loop(pythia, kaon, n_events)
    checks = check(momenta, ids, m_k=m_k, m_pi=m_pi, m_x=m_x)
    checks["pdg"] = _pdg_comparison(m_k, m_pi, m_x)
    breakdown = _breakdown(pythia, kaon, min(n_events, BREAKDOWN_EVENTS))

    result: dict[str, Any] = {
        "generator": "Pythia 8 (pythia8mc), K+ -> pi+ X, X -> nu_e nu_e~, decays only",
        "version": importlib.metadata.version("pythia8mc"),
        "pythia_version": f"{pythia.settings.parm('Pythia:versionNumber'):.3f}",
        "events": n_events,
        "events_per_s": n_events / loop_s,
        "loop_s": loop_s,
        "init_s": init_s,
        "import_s": import_s,
        "m_x_gev": m_x,
        "seed": seed,
        "settings": lines,
        "breakdown": breakdown,
        "checks": checks,
    }
    if return_events:
        result["momenta"] = momenta
        result["ids"] = ids
    return result
