r"""Fixtures for the control-channel tests: veneerd (API + agent port) and veneer-agents, all
on 127.0.0.1 with free ports, in a short temporary directory removed afterwards.

Binaries: $VENEERD, $VENEER_AGENT, $VENEERCTL (defaults build/src/... under the repository
root). Every process is stopped by PID in teardown (SIGTERM, then SIGKILL), even on failure.
Run as root, each module runs in a private network namespace (agents now create TAP devices
and bind their substrate address: see agentkit.netns_enter).

  tenant/admin --HTTP--> veneerd --agent port (TCP, cc messages)--> veneer-agent h1 (ctl socket)
                                 \------------------------------> veneer-agent h2 (ctl socket)
"""

import atexit
import signal

import pytest

import agentkit as ak

atexit.register(ak.stop_all)


def _on_sigterm(signo, frame):
    # A terminated run still stops its processes (atexit does not run on a fatal signal).
    raise KeyboardInterrupt("SIGTERM")


signal.signal(signal.SIGTERM, _on_sigterm)


class Cluster:
    """One veneerd on a fresh store and any number of agents (started on demand)."""

    def __init__(self, directory):
        self.dir = directory
        self.veneerd = ak.Veneerd(directory / "veneerd")
        self.agents = []
        self.b = None

    def start(self):
        self.veneerd.start()
        self.b = ak.Builder(self.veneerd)
        return self

    @property
    def admin(self):
        return self.veneerd.admin

    def agent(self, host=None, start=True, wait=True, **kw):
        """An agent for `host` (a new unique name by default); started and synced unless
        told otherwise."""
        a = ak.Agent(self.dir / "agents", self.veneerd, host or ak.uniq("h"), **kw)
        self.agents.append(a)
        if start:
            a.start()
            if wait:
                a.wait_connected()
        return a

    def stop(self):
        """Stops everything; returns the problems seen: a process that died on its own, or
        one that did not exit cleanly on SIGTERM."""
        problems = []
        for p in self.agents + [self.veneerd]:
            if p.crashed():
                problems.append("%s died (rc %s):\n%s" % (p.name, p.proc.returncode,
                                                          p.log_tail()))
                continue
            was_up = p.expect_up
            rc, killed = p.stop()
            if was_up and (killed or rc != 0):
                problems.append("%s: SIGTERM gave rc %s%s" % (p.name, rc,
                                                              ", needed SIGKILL" if killed else ""))
        return problems


@pytest.fixture(scope="module", autouse=True)
def _private_netns():
    """Each module runs in a fresh private network namespace when it can (root): set up
    before, and left after, everything the module starts."""
    entered = ak.netns_enter()
    try:
        yield entered
    finally:
        ak.netns_leave()


def _cluster_fixture():
    d = ak.make_tempdir()
    c = Cluster(d)
    problems = []
    try:
        c.start()
        yield c
    finally:
        try:
            problems = c.stop()
        finally:
            ak.remove_tempdir(d)
    # veneerd and every agent a test left running were still running, and stopped cleanly.
    assert not problems, "\n".join(problems)


@pytest.fixture
def cluster():
    """A fresh veneerd (and room for agents) per test."""
    yield from _cluster_fixture()


@pytest.fixture(scope="module")
def module_cluster():
    """One veneerd shared by a module's tests (for sequences against one daemon)."""
    yield from _cluster_fixture()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test's report carries the log tails of its veneerd and agents."""
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    funcargs = getattr(item, "funcargs", {}) or {}
    for name in ("cluster", "module_cluster"):
        c = funcargs.get(name)
        if isinstance(c, Cluster):
            for p in [c.veneerd] + c.agents:
                rep.sections.append(("%s log (tail)" % p.name, p.log_tail(40)))
