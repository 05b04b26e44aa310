"""Loaded with `-p tests.xdist_groups` (pyproject): makes `@pytest.mark.xdist_group("name")` work.

pytest-xdist's `--dist loadgroup` (scripts/test.sh) sends every test whose node id ends in
`@name` to one worker. xdist 3.8 adds that suffix by setting `item._nodeid`, which pytest 9 no
longer reads (a node's id lives in `item._id` now), so without this every group is silently
spread over both workers. Here the suffix is added the way pytest 9 keeps it; where xdist already
managed (a fixed release), nothing is done twice.
"""

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    if not getattr(config.option, "loadgroup", False):  # set in xdist workers under --dist loadgroup
        return
    from _pytest.nodeid import NodeId

    for item in items:
        marks = item.iter_markers("xdist_group")
        names = {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in marks}
        if names and "@" not in item.nodeid:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(sorted(names))}")
