"""Fixtures for the topology tests (scripts/veneer-lab deployments in network namespaces).

Each test module gets one lab (`lab`, module scope) under a unique name; it is torn down with
`veneer-lab down` even when a test fails, and the fixture then asserts that no namespace of
that lab remains. A failing test's report carries the tails of the lab's logs (veneerd and
agents). Run as root with Debian's python3:

    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/topo
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import topolab  # noqa: E402


def pytest_configure(config):
    if os.geteuid() != 0:
        raise pytest.UsageError("the topology tests need root (network namespaces)")
    if not topolab.LAB_TOOL.exists():
        raise pytest.UsageError("%s is missing" % topolab.LAB_TOOL)


def _lab(hosts, encap="vxlan", substrate=None):
    lab = topolab.Lab()
    leftover = None
    try:
        lab.up(hosts=hosts, encap=encap, substrate=substrate)
        yield lab
    finally:
        leftover = lab.down()
    assert leftover == [], "lab %s is not entirely gone after down: %s" % (lab.name, leftover)


@pytest.fixture(scope="module")
def lab(request):
    """A lab with `LAB_HOSTS` hosts and `LAB_ENCAP` substrate encoding (module-level
    constants, default 2 and vxlan)."""
    yield from _lab(getattr(request.module, "LAB_HOSTS", 2),
                    getattr(request.module, "LAB_ENCAP", "vxlan"),
                    getattr(request.module, "LAB_SUBSTRATE", None))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and topolab.ACTIVE:
        for lab in topolab.ACTIVE:
            rep.sections.append(("lab %s logs" % lab.name, lab.log_tails()))
