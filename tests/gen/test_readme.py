"""The README's card table is the schema's, and its two commands are the ones CI runs."""

from __future__ import annotations

from axgen_testing import REPO

from gen.cards import schema_table


def test_card_table_is_generated_from_the_schema():
    readme = (REPO / "README.md").read_text()
    start = readme.index("<!-- card-table")
    end = readme.index("<!-- end card-table -->")
    table = readme[start:end].split("\n", 1)[1].strip()
    assert table == schema_table().strip()


def test_readme_commands_are_the_ci_commands():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    for command in (
        "pip install . && axgen run cards/k_pi_x.toml",
        'pip install ".[test]" && pytest',
    ):
        assert command in readme
        assert command in ci


def _block(readme: str, tag: str) -> str:
    start = readme.index(f"<!-- {tag}")
    end = readme.index(f"<!-- end {tag} -->")
    return readme[start:end].split("\n", 1)[1].strip()


def test_production_and_cut_tables_are_generated():
    from gen import acceptance, production

    readme = (REPO / "README.md").read_text()
    assert _block(readme, "production-table") == production.table().strip()
    cuts = _block(readme, "acceptance-cuts")
    assert acceptance.cuts_table("na62") in cuts
    assert acceptance.cuts_table("koto") in cuts
