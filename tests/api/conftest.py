"""Fixtures for the veneerd API tests.

The binary is $VENEERD (default build/src/veneerd/veneerd under the repository root). Each test
module gets its own veneerd on a fresh store (`server`, `api`, `admin`); tests that restart or
kill the daemon, or need other options, start their own through `make_server`.
"""

import atexit

import pytest

import vapi

atexit.register(vapi.stop_all)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = vapi.Server(tmp_path_factory.mktemp("veneerd"))
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def api(server):
    return vapi.Api(server)


@pytest.fixture(scope="module")
def admin(api):
    return api.admin


@pytest.fixture
def make_server(tmp_path):
    """Factory: make_server(rate_limit="0", extra_args=()) -> started Server (stopped at the
    end of the test, SIGTERM then SIGKILL). Use .restart(), .kill9(), .start() freely."""
    made = []

    def factory(rate_limit="0", extra_args=(), start=True, **kw):
        srv = vapi.Server(tmp_path / ("veneerd%d" % len(made)), rate_limit=rate_limit,
                          extra_args=extra_args, **kw)
        made.append(srv)
        if start:
            srv.start()
        return srv

    try:
        yield factory
    finally:
        for srv in made:
            srv.stop()


@pytest.fixture(autouse=True)
def _servers_stay_up():
    """Every veneerd that should be running is still running (and healthy) after each test."""
    vapi.TOUCHED.clear()
    yield
    for srv in list(vapi.TOUCHED):
        if srv.expect_up:
            assert srv.alive(), "veneerd died (rc %s):\n%s" % (srv.proc.returncode,
                                                              srv.log_tail())
            assert srv._healthy(), "veneerd stopped answering /v1/health:\n%s" % srv.log_tail()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for srv in list(vapi.TOUCHED):
            rep.sections.append(("veneerd log %s (tail)" % srv.log_path, srv.log_tail(60)))
