"""accounts is the base of the house: no module of it imports incidents, policyhub or dataprotection
(docs/architecture.md). Imports are read with `ast`, those inside functions included, by the same
reader as the import-circle test; migrations are read too."""

from pathlib import Path

from tests.test_import_cycles import ROOT, imports_of, module_name, project_modules

ABOVE = ("incidents", "policyhub", "dataprotection")


def imports_from_above(root: Path = ROOT) -> dict[str, list[str]]:
    modules = project_modules()
    found = {}
    for path in sorted((root / "accounts").rglob("*.py")):
        name = module_name(path)
        above = sorted(m for m in imports_of(name, path, modules) if m.split(".")[0] in ABOVE)
        if above:
            found[name] = above
    return found


def test_the_reader_sees_an_import_from_above_written_inside_a_function(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from incidents.models import Evidence\n    import policyhub.dispatch\n")
    modules = project_modules()
    assert imports_of("accounts.m", source, modules) >= {"incidents.models", "policyhub.dispatch"}


def test_accounts_imports_nothing_from_the_apps_above_it():
    assert imports_from_above() == {}
