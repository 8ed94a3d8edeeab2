"""Fixtures for the control-channel tests: veneerd (API + agent port) and veneer-agents, all
on 127.0.0.1 with free ports, in a short temporary directory removed afterwards.

Binaries: $VENEERD, $VENEER_AGENT, $VENEERCTL (defaults build/src/... under the repository
root). Every process is stopped by PID in teardown (SIGTERM, then SIGKILL), even on failure.

  tenant/admin --HTTP--> veneerd --agent port (TCP, cc messages)--> veneer-agent h1 (ctl socket)
                                 \------------------------------> veneer-agent h2 (ctl socket)
"""

import atexit

import pytest

import agentkit as ak

atexit.register(ak.stop_all)


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
        for a in self.agents:
            a.stop()
        self.veneerd.stop()


@pytest.fixture
def cluster():
    d = ak.make_tempdir()
    c = Cluster(d)
    try:
        c.start()
        yield c
    finally:
        try:
            c.stop()
        finally:
            ak.remove_tempdir(d)


@pytest.fixture(autouse=True)
def _no_crash(request):
    """veneerd and every agent that a test left running are still running afterwards."""
    del ak.TOUCHED[:]
    yield
    for p in list(ak.TOUCHED):
        if p.proc is not None and p.proc.returncode is None and p.proc.poll() is not None:
            raise AssertionError("%s died (rc %s) during the test:\n%s"
                                 % (p.name, p.proc.returncode, p.log_tail()))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for p in list(ak.TOUCHED):
            rep.sections.append(("%s log (tail)" % p.name, p.log_tail(40)))
