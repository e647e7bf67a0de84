"""Form factors against the values quoted in physics.md §6 (flavio 2.7.1)."""

from __future__ import annotations

import pytest

from matrix_elements.form_factors import b_k, k_pi


@pytest.mark.parametrize(
    ("q2", "expected"),
    [(0.0, 0.969800), (0.01, 0.982009), (0.04, 1.020559), (0.05, 1.034094), (0.1, 1.107581)],
)
def test_k_pi_f_plus(q2, expected):
    ff = k_pi.KPiFormFactor().to_array()
    assert k_pi.f_plus(q2, ff) == pytest.approx(expected, abs=6e-7)


@pytest.mark.parametrize(
    ("q2", "f_plus", "f_zero"),
    [(0.0, 0.33196, 0.33196), (5.0, 0.44605, 0.37826), (10.0, 0.62907, 0.44192)],
)
def test_b_k_form_factors(q2, f_plus, f_zero):
    assert b_k.bsz(q2, b_k.F_PLUS.to_array()) == pytest.approx(f_plus, abs=6e-6)
    assert b_k.bsz(q2, b_k.F_ZERO.to_array()) == pytest.approx(f_zero, abs=6e-6)


def test_b_k_kinematic_constraint():
    # f+(0) = f0(0): the shared a0
    assert b_k.bsz(0.0, b_k.F_PLUS.to_array()) == b_k.bsz(0.0, b_k.F_ZERO.to_array())
