"""From a scratch block to the particle record: momenta, PDG ids, weights (all families).

The process stages (``block`` of each family) leave per-event choices in scratch rows:
CONJUGATE (1: the charge-conjugate event), NU_PID (the neutrino flavour drawn, 12/14/16)
and CHOICE_PID (a PDG id drawn per event, e.g. K_S or K_L). The record's PDG ids are the
process row (or the conjugate row) of the topology's template with those choices filled in.
"""

from __future__ import annotations

import numpy as np

from phase_space._jit import kernel
from phase_space.block import CHOICE_PID, CONJUGATE, NU_PID, P_ROWS, Q2, WEIGHT


@kernel
def store_pids(s, lane, i, k, pid_template, nu_slot, choice_slot, pid):
    """PDG ids of event ``i`` from lane ``lane``: the template row of the event (process or
    conjugate), the ν in slot ``nu_slot`` (ν̄ after it; −1: none) with the drawn flavour and
    the event's sign, slot ``choice_slot`` (−1: none) the drawn id."""
    conjugate = 1 if s[CONJUGATE, lane] > 0.5 else 0
    for slot in range(k):  # k = pid_template.shape[1]: a constant where the caller has one
        pid[i, slot] = pid_template[conjugate, slot]
    if nu_slot >= 0:
        nu = np.int32(s[NU_PID, lane])
        pid[i, nu_slot] = -nu if conjugate == 1 else nu
        pid[i, nu_slot + 1] = -pid[i, nu_slot]
    if choice_slot >= 0:
        pid[i, choice_slot] = np.int32(s[CHOICE_PID, lane])


@kernel
def store_process(s, i0, n, pid_template, nu_slot, choice_slot, p, pid, fjac, q2):
    """Lanes 0 .. n − 1 into events ``i0 ..``: momenta ``p[4, events, slots]`` (GeV), PDG ids
    (:func:`store_pids`), ``fjac`` (integrand × VEGAS Jacobian) and ``q2`` (GeV²)."""
    k = p.shape[2]
    for lane in range(n):
        i = np.uint64(i0 + lane)  # unsigned: no per-element wrap-around of negative indices
        for slot in range(k):
            for c in range(4):
                p[c, i, slot] = s[P_ROWS + 4 * slot + c, lane]
        store_pids(s, lane, i, k, pid_template, nu_slot, choice_slot, pid)
        fjac[i] = s[WEIGHT, lane]
        q2[i] = s[Q2, lane]
