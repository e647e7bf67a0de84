"""Test configuration: deterministic hypothesis runs.

CI and a plain ``pytest`` use the ``deterministic`` profile (derandomised, no example
database), so a run is reproducible. ``pytest --hypothesis-profile=explore`` searches with
fresh random examples and many more of them, to look for new edge cases.
"""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, database=None, deadline=None)
settings.register_profile("explore", max_examples=5000, deadline=None)
settings.load_profile("deterministic")
