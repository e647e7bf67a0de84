"""axgen's driver package: cards, processes, production, acceptance, events, writers, CLI.

From Python (notebooks)::

    import gen
    events, summary = gen.generate("cards/k_pi_x.toml", events=100_000, m_X=0.2)

``events`` is an awkward Array (one record per event; ``events.particles`` is a
``Momentum4D`` record, so ``vector.register_awkward()`` gives ``.mass``, ``.pt`` ...).
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

try:
    __version__ = metadata.version("axgen")
except metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["Generated", "__version__", "generate"]


class Generated(NamedTuple):
    """What :func:`generate` returns."""

    events: Any  # awkward.Array
    summary: dict[str, Any]


def generate(
    card_or_path: str | Path | dict[str, Any],
    *,
    output_dir: str | Path | None = None,
    progress: bool = False,
    **overrides: Any,
) -> Generated:
    """Run a card from Python and return the events and the summary.

    Parameters
    ----------
    card_or_path : path of a TOML card, or the card as a dict (the TOML structure).
    output_dir : if given, also write the card's ``[[output]]`` files and summary.json there.
    progress : show a progress bar.
    **overrides : card keys to override, by unique name (``events=1000``, ``m_X=0.2``) or as
        dotted keys through a dict (``**{"model.m_X": 0.2}``).

    Raises
    ------
    gen.cards.CardError : with one line per problem for a bad card.
    """
    from gen import cards, driver

    if isinstance(card_or_path, dict):
        source = "<dict>"
        raw = cards.apply_overrides(card_or_path, overrides, source) if overrides else card_or_path
    else:
        source = str(card_or_path)
        raw = cards.load_raw(card_or_path, overrides)
    directory = Path(output_dir) if output_dir is not None else None
    card, prepared = driver.check(raw, source, directory)
    result = driver.run(card, directory, progress=progress, collect=True, prepared=prepared)
    return Generated(result.events, result.summary)
