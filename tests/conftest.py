"""Test configuration: deterministic hypothesis runs.

CI and a plain ``pytest`` use the ``deterministic`` profile (derandomised, no example
database), so a run is reproducible. ``pytest --hypothesis-profile=explore`` searches with
fresh random examples and many more of them, to look for new edge cases.
"""

from __future__ import annotations

import pytest
from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, database=None, deadline=None)
settings.register_profile("explore", max_examples=5000, deadline=None)
settings.load_profile("deterministic")


@pytest.fixture(autouse=True, scope="session")
def _private_pdg_cache(tmp_path_factory):
    """The PDG property cache (gen.pdg) of the test session: never the user's ~/.cache."""
    import os

    saved = os.environ.get("AXGEN_CACHE_DIR")
    os.environ["AXGEN_CACHE_DIR"] = str(tmp_path_factory.mktemp("axgen-cache"))
    yield
    if saved is None:
        os.environ.pop("AXGEN_CACHE_DIR", None)
    else:
        os.environ["AXGEN_CACHE_DIR"] = saved
