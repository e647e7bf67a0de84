"""Recasts of published searches: ``belle2`` (B⁺ → K⁺X in Belle II's B⁺ → K⁺νν̄ likelihood).

``likelihood``: the pyhf model with the X sample and its fits; ``belle2``: the point loop, the
table and the plot behind ``axgen recast belle2``.
"""
