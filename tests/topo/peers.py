"""Real routing daemons as tenant appliances inside a network namespace, and a raw BGP speaker,
for the topology tests that check veneer-routerd's BGP.

    NETNS (a lab VM, or any namespace)
      |- Bird / Frr (zebra + bgpd) / Gobgp / Exabgp   one instance = one workdir holding its
      |                                               config, pid file, control socket and log
      '- RawBgp: a TCP socket opened inside NETNS by this process (setns), hand-built messages

Every daemon runs in the foreground under `ip netns exec NETNS` as a child of this process
(the Popen is the daemon itself: `ip netns exec` execs it), is stopped by that PID and never
by a name pattern, and stop() removes the files it made. The traps of /work/shared/peers.md are
built in: FRR's zebra and bgpd started directly with -N, a vty socket directory owned by frr,
`no bgp ebgp-requires-policy`, `no bgp network import-check`, `timers connect 5`; BIRD's eBGP
`import all; export ...` written out and no template called `ebgp`; gobgpd with
`--pprof-disable` and its own gRPC port (`--api-hosts 127.0.0.1:PORT`), its CLI run in the same
namespace; ExaBGP in the foreground as root, with no privilege drop, no CLI pipes, and a
per-instance API process (a FIFO in, a JSON event file out).

Common interface of Bird, Frr, Gobgp, Exabgp:

    p = Bird(netns, workdir, router_id, local_asn,
             neighbors=[{"ip": "10.0.0.2", "asn": 65002,
                         "password": None,      # TCP MD5
                         "ttl_security": False, # GTSM, RFC 5082, 1 hop
                         "hold": None,          # hold time (s); keepalive = hold / 3
                         "graceful_restart": False,  # BIRD only: RFC 4724 capability
                         "passive": False, "multihop": None, "local_ip": None}],
             announce=["10.1.0.0/24", ("10.1.1.0/24", {"med": 5})],
             import_all=True,    # False: the daemon keeps nothing it receives (ExaBGP:
                                 # no RIB, it always records what it got)
             extra=None)         # daemon-specific config text, appended
    p.start()                          # returns once the control socket answers
    p.established(ip) -> bool
    p.wait_established(ip, timeout=30) # retry-until-true; AssertionError on timeout
    p.received_routes() -> {prefix: [{"peer", "nexthop", "as_path": [int], "med",
                                      "local_pref", "communities": ["A:B"], "origin",
                                      "other": {name: text}}]}
    p.announce(prefix, nexthop=None, as_path=None, med=None, local_pref=None,
               communities=None, origin=None)   # as_path: the ASNs after our own
    p.withdraw(prefix)
    p.shutdown_neighbor(ip) / p.enable_neighbor(ip)
    p.log_tail(lines=40) -> str
    p.stop(keep_log=False)
    Exabgp only: p.announce_raw(prefix, nexthop, attributes, neighbor=None), attributes a list
    of (type, flags, value bytes or hex) or ready "0xTYPE 0xFLAGS 0xVALUE" strings; p.send(cmd).

Attributes: local_pref only reaches iBGP peers; to an eBGP peer every daemon puts its own ASN
first (as_path = what follows it) and sends itself as next hop unless `nexthop` names another
address on the shared subnet (third-party next hop; the self-check does not exercise this).
BIRD sends MED to eBGP only when its export filter sets it: the generated filter does.
Learned routes are re-advertised by FRR and GoBGP (their defaults), not by BIRD (its export is
its own announcements) nor ExaBGP. ExaBGP replays routes announced through its API on every
new session: a raw route that resets the session must be withdrawn before the session can
stay up. Waits raise AssertionError (topolab.wait_until) with the daemon's log tail.

RawBgp(netns, local_ip, peer_ip, local_asn=65010, ...): connect(), send(bytes),
send_msg(type, body, marker=, length=), send_open(...), send_keepalive(), send_update(...),
recv(timeout) -> (type, body) | None, establish(), expect_notification() ->
Notification(code, subcode, data), close(). Encoders: bgp_msg, open_body, update_body, attr,
std attribute helpers (a_origin, a_as_path, a_next_hop, a_med, a_local_pref, a_communities).

Standard library only (Debian's /usr/bin/python3), root.
"""

import collections
import ipaddress
import json
import os
import pathlib
import re
import secrets
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from topolab import in_netns, wait_until  # noqa: E402

IP_NETNS_EXEC = ("ip", "netns", "exec")


def _run(argv, timeout=20, check=True, env=None):
    r = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, env=env)
    if check and r.returncode != 0:
        raise RuntimeError("%s -> rc %d\n%s%s" % (" ".join(argv), r.returncode, r.stdout[-3000:],
                                                   r.stderr[-3000:]))
    return r


def _comm(c):
    """A community as "A:B" from "A:B", (A, B) or a 32-bit int."""
    if isinstance(c, int):
        return "%d:%d" % (c >> 16, c & 0xFFFF)
    if isinstance(c, (tuple, list)):
        return "%d:%d" % (int(c[0]), int(c[1]))
    a, b = str(c).split(":")
    return "%d:%d" % (int(a), int(b))


def _neighbor(n):
    d = {"password": None, "ttl_security": False, "hold": None, "passive": False,
         "multihop": None, "local_ip": None, "graceful_restart": False}
    d.update(n)
    d["ip"] = str(ipaddress.ip_address(d["ip"]))
    d["asn"] = int(d["asn"])
    return d


ATTR_KEYS = ("nexthop", "as_path", "med", "local_pref", "communities", "origin")


def _route(peer, nexthop=None, as_path=(), med=None, local_pref=None, communities=(),
           origin=None, other=None):
    return {"peer": peer, "nexthop": nexthop, "as_path": [int(a) for a in as_path], "med": med,
            "local_pref": local_pref, "communities": [_comm(c) for c in communities],
            "origin": origin, "other": other or {}}


class _Daemon:
    """What the four daemons share: files under workdir, processes by Popen, the waits."""

    kind = "daemon"

    def __init__(self, netns, workdir, router_id, local_asn, neighbors=(), announce=(),
                 import_all=True, extra=None):
        self.netns = netns
        self.dir = pathlib.Path(workdir)
        self.router_id = str(ipaddress.ip_address(router_id))
        self.asn = int(local_asn)
        self.neighbors = [_neighbor(n) for n in neighbors]
        self.routes = {}  # prefix -> attrs we announce
        for a in announce:
            prefix, attrs = (a, {}) if isinstance(a, str) else (a[0], dict(a[1]))
            self.routes[str(ipaddress.ip_network(prefix))] = self._check_attrs(attrs)
        self.import_all = import_all
        self.extra = extra or ""
        self.procs = []
        self._made_dir = False
        self._files = []

    # -- helpers for subclasses ---------------------------------------------------------------
    @staticmethod
    def _check_attrs(attrs):
        bad = set(attrs) - set(ATTR_KEYS)
        if bad:
            raise ValueError("unknown route attributes %s (known: %s)" % (sorted(bad),
                                                                          ATTR_KEYS))
        return {k: v for k, v in attrs.items() if v is not None}

    def _file(self, name):
        p = self.dir / name
        if p not in self._files:
            self._files.append(p)
        return p

    def _mkdir(self):
        if not self.dir.exists():
            self.dir.mkdir(parents=True)
            self._made_dir = True

    def _spawn(self, argv, log, env=None):
        """A daemon in the foreground in the namespace; its Popen is the daemon (ip netns exec
        execs it)."""
        out = open(log, "ab")
        try:
            p = subprocess.Popen(list(IP_NETNS_EXEC) + [self.netns] + list(argv), stdout=out,
                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 start_new_session=True, env=env)
        finally:
            out.close()
        self.procs.append(p)
        return p

    def _nsrun(self, *argv, timeout=20, check=True):
        return _run(list(IP_NETNS_EXEC) + [self.netns] + list(argv), timeout=timeout,
                    check=check)

    def _alive(self):
        return bool(self.procs) and all(p.poll() is None for p in self.procs)

    def _wait_ready(self, fn, what, timeout=20):
        def ready():
            for p in self.procs:
                if p.poll() is not None:
                    raise AssertionError("%s exited with %s while starting:\n%s"
                                         % (self.kind, p.returncode, self.log_tail()))
            return fn()
        try:
            return wait_until(ready, timeout, what="%s %s" % (self.kind, what))
        except AssertionError:
            raise AssertionError("%s did not become ready (%s); log:\n%s"
                                 % (self.kind, what, self.log_tail())) from None

    def neighbor(self, ip):
        ip = str(ipaddress.ip_address(ip))
        for n in self.neighbors:
            if n["ip"] == ip:
                return n
        raise KeyError("%s has no neighbor %s" % (self.kind, ip))

    def _local_ip(self, n):
        """Our address towards a neighbor: its local_ip, else the kernel's source address."""
        if n["local_ip"]:
            return n["local_ip"]
        r = self._nsrun("ip", "-j", "route", "get", n["ip"])
        return json.loads(r.stdout)[0]["prefsrc"]

    # -- the common interface -----------------------------------------------------------------
    def wait_established(self, ip, timeout=30):
        try:
            return wait_until(lambda: self.established(ip), timeout,
                              what="%s session with %s Established" % (self.kind, ip))
        except AssertionError as e:
            raise AssertionError("%s\n%s log:\n%s" % (e, self.kind, self.log_tail())) from None

    def wait_down(self, ip, timeout=30):
        return wait_until(lambda: not self.established(ip), timeout,
                          what="%s session with %s not Established" % (self.kind, ip))

    def log_tail(self, lines=40):
        out = []
        for p in self._logs():
            try:
                text = p.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
            out.append("== %s ==\n%s" % (p, "\n".join(text)))
        return "\n".join(out)

    def _logs(self):
        return [self.log]

    def stop(self, keep_log=False):
        """Stops this instance's processes by their PIDs (TERM, then KILL after 5 s) and
        removes its files (the log too unless keep_log)."""
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGTERM)
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
                except ProcessLookupError:
                    pass
        self.procs = []
        keep = set(self._logs()) if keep_log else set()
        for f in self._files:
            if f in keep:
                continue
            try:
                if f.is_dir() and not f.is_symlink():
                    shutil.rmtree(f)
                else:
                    f.unlink()
            except FileNotFoundError:
                pass
        if self._made_dir and not keep:
            try:
                self.dir.rmdir()
            except OSError:
                pass

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self):
        return "<%s AS%d %s in %s>" % (self.kind, self.asn, self.router_id, self.netns)


# ---------------------------------------------------------------------------------------------
# BIRD 2

class Bird(_Daemon):
    """BIRD 2: bird -f -c CONF -s SOCK -P PID; birdc -s SOCK. One BGP protocol per neighbor,
    named n_A_B_C_D; announced prefixes are static blackhole routes (or `via NEXTHOP` when
    a next hop is given) carrying their attributes, exported to every neighbor."""

    kind = "bird"

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.conf = self._file("bird.conf")
        self.sock = self._file("bird.ctl")
        self.pidfile = self._file("bird.pid")
        self.log = self._file("bird.log")
        self.disabled = set()

    @staticmethod
    def proto(ip):
        return "n_" + str(ip).replace(".", "_").replace(":", "_")

    def _route_line(self, prefix, at):
        how = "via %s" % at["nexthop"] if at.get("nexthop") else "blackhole"
        body = []
        if at.get("as_path"):
            for asn in reversed(at["as_path"]):
                body.append("bgp_path.prepend(%d);" % int(asn))
        if at.get("med") is not None:
            body.append("bgp_med = %d;" % at["med"])
        if at.get("local_pref") is not None:
            body.append("bgp_local_pref = %d;" % at["local_pref"])
        for c in at.get("communities", ()):
            body.append("bgp_community.add((%s));" % _comm(c).replace(":", ","))
        if at.get("origin"):
            body.append("bgp_origin = ORIGIN_%s;" % at["origin"].upper())
        return "  route %s %s%s;" % (prefix, how, " { %s }" % " ".join(body) if body else "")

    def _config(self):
        c = ['router id %s;' % self.router_id,
             'log "%s" all;' % self.log,
             'timeformat protocol iso long;',
             'protocol device { scan time 10; }',
             'protocol static announced {',
             '  ipv4;'] + [self._route_line(p, at) for p, at in self.routes.items()] + ['}']
        for n in self.neighbors:
            c.append("protocol bgp %s {" % self.proto(n["ip"]))
            if n["ip"] in self.disabled:
                c.append("  disabled;")
            c.append("  local %sas %d;" % (n["local_ip"] + " " if n["local_ip"] else "",
                                            self.asn))
            c.append("  neighbor %s as %d;" % (n["ip"], n["asn"]))
            c.append("  connect delay time 1; connect retry time 5; error wait time 1, 5;")
            if n["hold"]:
                c.append("  hold time %d; keepalive time %d;" % (n["hold"],
                                                                  max(1, n["hold"] // 3)))
            if n["password"]:
                c.append('  password "%s";' % n["password"])
            if n["ttl_security"]:
                c.append("  ttl security on;")
            if n["multihop"]:
                c.append("  multihop %d;" % n["multihop"])
            if n["passive"]:
                c.append("  passive on;")
            if n["graceful_restart"]:
                c.append("  graceful restart on;")
            # BIRD sends MED to an eBGP neighbor only when the export filter set it
            c.append('  ipv4 { import %s; export filter { if proto != "announced" then reject;'
                     ' if defined(bgp_med) then bgp_med = bgp_med; accept; }; };'
                     % ("all" if self.import_all else "none"))
            c.append("}")
        c.append(self.extra)
        return "\n".join(c) + "\n"

    def birdc(self, *cmd, check=True):
        return _run(["birdc", "-s", str(self.sock)] + list(cmd), check=check).stdout

    def start(self):
        self._mkdir()
        self.conf.write_text(self._config())
        self._spawn(["bird", "-f", "-c", str(self.conf), "-s", str(self.sock), "-P",
                     str(self.pidfile)], self.log)
        self._wait_ready(lambda: self.sock.exists() and "BIRD" in self.birdc(
            "show", "status", check=False), "control socket")
        return self

    def _reconfigure(self):
        self.conf.write_text(self._config())
        out = self.birdc("configure")
        if "Reconfigured" not in out and "Reconfiguration in progress" not in out:
            raise RuntimeError("birdc configure: %s" % out)

    def established(self, ip):
        out = self.birdc("show", "protocols", self.proto(ip), check=False)
        return bool(re.search(r"^%s\s.*\bEstablished\b" % self.proto(ip), out, re.M))

    def received_routes(self):
        routes = {}
        for n in self.neighbors:
            out = self.birdc("show", "route", "all", "protocol", self.proto(n["ip"]))
            for prefix, r in self._parse_routes(out, n["ip"]):
                routes.setdefault(prefix, []).append(r)
        return routes

    @staticmethod
    def _parse_routes(text, peer):
        """`show route all` text -> [(prefix, route)]."""
        out, prefix, cur = [], None, None
        for line in text.splitlines():
            if not line.strip() or line.startswith(("BIRD ", "Table ")):
                continue
            if not line[0].isspace() or re.match(r"^\s+(unicast|unreachable|blackhole|"
                                                 r"prohibited)\s+\[", line):
                if not line[0].isspace():
                    prefix = line.split()[0]
                cur = _route(peer)
                out.append((prefix, cur))
                continue
            if cur is None:
                continue
            m = re.match(r"^\s+BGP\.([^:]+):\s*(.*)$", line)
            if not m:
                continue
            k, v = m.group(1), m.group(2).strip()
            if k == "as_path":
                cur["as_path"] = [int(x) for x in re.findall(r"\d+", v)]
            elif k == "next_hop":
                cur["nexthop"] = v.split()[0]
            elif k == "med":
                cur["med"] = int(v)
            elif k == "local_pref":
                cur["local_pref"] = int(v)
            elif k == "community":
                cur["communities"] = ["%s:%s" % ab for ab in re.findall(r"\((\d+),\s*(\d+)\)",
                                                                          v)]
            elif k == "origin":
                cur["origin"] = v.lower()
            else:
                cur["other"][k] = v
        return out

    def announce(self, prefix, **attrs):
        self.routes[str(ipaddress.ip_network(prefix))] = self._check_attrs(attrs)
        self._reconfigure()

    def withdraw(self, prefix):
        self.routes.pop(str(ipaddress.ip_network(prefix)), None)
        self._reconfigure()

    def shutdown_neighbor(self, ip):
        self.disabled.add(self.neighbor(ip)["ip"])
        self.birdc("disable", self.proto(ip))

    def enable_neighbor(self, ip):
        self.disabled.discard(self.neighbor(ip)["ip"])
        self.birdc("enable", self.proto(ip))

    def memory(self):
        """`show memory`: {"Routing tables": bytes, "Route attributes": bytes, ...}
        (effective size where BIRD prints effective and overhead)."""
        return parse_bird_memory(self.birdc("show", "memory"))

    def stop(self, keep_log=False):
        if self._alive():
            self.birdc("down", check=False)
            for p in self.procs:
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        super().stop(keep_log)


_UNITS = {"B": 1, "kB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}


def parse_bird_memory(text):
    """BIRD's `show memory` -> {name: effective bytes}."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^\s*([A-Za-z][A-Za-z ]*?):\s+([\d.]+)\s+(B|kB|MB|GB)\b", line)
        if m:
            out[m.group(1)] = int(float(m.group(2)) * _UNITS[m.group(3)])
    return out


# ---------------------------------------------------------------------------------------------
# FRR 8.4

class Frr(_Daemon):
    """FRR 8.4: zebra and bgpd started directly (-N NAME, foreground), their vty sockets and
    zserv socket in workdir/run (owned by frr), TCP vty off (-P 0); vtysh --vty_socket."""

    kind = "frr"

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.name = "p" + secrets.token_hex(4)  # the -N pathspace, unique per instance
        self.run = self._file("run")
        self.zconf = self._file("zebra.conf")
        self.bconf = self._file("bgpd.conf")
        self.log = self._file("bgpd.log")
        self.zlog = self._file("zebra.log")
        self.out = self._file("frr.out")

    def _logs(self):
        return [self.log, self.zlog, self.out]

    @staticmethod
    def _rmap(prefix):
        return "ann-" + prefix.replace("/", "-").replace(":", "_")

    def _rmap_lines(self, prefix, at):
        c = ["route-map %s permit 10" % self._rmap(prefix)]
        if at.get("nexthop"):
            c.append(" set ip next-hop %s" % at["nexthop"])
        if at.get("as_path"):
            c.append(" set as-path prepend %s" % " ".join(str(int(a)) for a in at["as_path"]))
        if at.get("med") is not None:
            c.append(" set metric %d" % at["med"])
        if at.get("local_pref") is not None:
            c.append(" set local-preference %d" % at["local_pref"])
        if at.get("communities"):
            c.append(" set community %s" % " ".join(_comm(x) for x in at["communities"]))
        if at.get("origin"):
            c.append(" set origin %s" % at["origin"].lower())
        c.append("exit")
        return c

    def _bgp_lines(self):
        c = ["router bgp %d" % self.asn,
             " bgp router-id %s" % self.router_id,
             " no bgp ebgp-requires-policy",
             " no bgp network import-check",
             " no bgp default ipv4-unicast"]
        for n in self.neighbors:
            ip = n["ip"]
            c.append(" neighbor %s remote-as %d" % (ip, n["asn"]))
            c.append(" neighbor %s timers connect 5" % ip)
            if n["hold"]:
                c.append(" neighbor %s timers %d %d" % (ip, max(1, n["hold"] // 3), n["hold"]))
            if n["password"]:
                c.append(" neighbor %s password %s" % (ip, n["password"]))
            if n["ttl_security"]:
                c.append(" neighbor %s ttl-security hops 1" % ip)
            if n["multihop"]:
                c.append(" neighbor %s ebgp-multihop %d" % (ip, n["multihop"]))
            if n["passive"]:
                c.append(" neighbor %s passive" % ip)
            if n["local_ip"]:
                c.append(" neighbor %s update-source %s" % (ip, n["local_ip"]))
        c.append(" address-family ipv4 unicast")
        for p in self.routes:
            c.append("  network %s route-map %s" % (p, self._rmap(p)))
        for n in self.neighbors:
            c.append("  neighbor %s activate" % n["ip"])
            if not self.import_all:
                c.append("  neighbor %s route-map deny-all in" % n["ip"])
        c.append(" exit-address-family")
        c.append("exit")
        return c

    def _config(self):
        c = ["frr defaults traditional", "hostname %s" % self.name,
             "log file %s" % self.log, "!"]
        for p, at in self.routes.items():
            c += self._rmap_lines(p, at)
        c += ["route-map deny-all deny 10", "exit"]
        c += self._bgp_lines()
        c.append(self.extra)
        return "\n".join(c) + "\n"

    def vtysh(self, *cmds, check=True):
        argv = ["vtysh", "--vty_socket", str(self.run)]
        for c in cmds:
            argv += ["-c", c]
        r = _run(argv, check=check)
        if check and ("% " in r.stdout and ("Unknown" in r.stdout or "Invalid" in r.stdout or
                                            "Error" in r.stdout)):
            raise RuntimeError("vtysh %s: %s" % (cmds, r.stdout))
        return r.stdout

    def _json(self, cmd):
        return json.loads(self.vtysh(cmd) or "{}")

    def start(self):
        self._mkdir()
        self.run.mkdir(exist_ok=True)
        self.zconf.write_text("hostname %s\nlog file %s\n" % (self.name, self.zlog))
        self.bconf.write_text(self._config())
        for f in (self.log, self.zlog):
            f.touch()
        os.chmod(self.dir, 0o755)
        _run(["chown", "-R", "frr:frr", str(self.run), str(self.zconf), str(self.bconf),
              str(self.log), str(self.zlog)])
        common = ["-N", self.name, "--vty_socket", str(self.run), "-z",
                  str(self.run / "zserv.api"), "-P", "0", "-u", "frr", "-g", "frr"]
        self._spawn(["/usr/lib/frr/zebra", "-f", str(self.zconf), "-i",
                     str(self.run / "zebra.pid"), "--log", "file:%s" % self.zlog] + common,
                    self.out)
        self._wait_ready(lambda: (self.run / "zserv.api").exists()
                         and (self.run / "zebra.vty").exists(), "zebra sockets")
        self._spawn(["/usr/lib/frr/bgpd", "-f", str(self.bconf), "-i",
                     str(self.run / "bgpd.pid"), "--log", "file:%s" % self.log] + common,
                    self.out)
        self._wait_ready(lambda: (self.run / "bgpd.vty").exists() and "BGP" in self.vtysh(
            "show bgp summary", check=False), "bgpd vty")
        return self

    def _configure(self, *lines):
        self.vtysh("configure terminal", *lines)

    def established(self, ip):
        ip = str(ipaddress.ip_address(ip))
        try:
            d = self._json("show bgp neighbors %s json" % ip)
        except (RuntimeError, ValueError):
            return False
        return d.get(ip, {}).get("bgpState") == "Established"

    def received_routes(self):
        d = self._json("show bgp ipv4 unicast json detail")
        routes = {}
        for prefix, paths in d.get("routes", {}).items():
            for p in paths:
                peer = p.get("peer", {}).get("peerId")
                if not peer or peer == "0.0.0.0":  # our own network statements
                    continue
                asp = p.get("aspath", {})
                as_path = [int(x) for x in re.findall(r"\d+", asp.get("string", ""))] \
                    if isinstance(asp, dict) else []
                nh = p.get("nexthops", [{}])
                comm = p.get("community", {}).get("string", "")
                origin = p.get("origin", "")
                routes.setdefault(prefix, []).append(_route(
                    peer, nexthop=nh[0].get("ip") if nh else None, as_path=as_path,
                    med=p.get("metric"), local_pref=p.get("locPrf", p.get("localpref")),
                    communities=[c for c in comm.split() if ":" in c],
                    origin=origin.lower() or None,
                    other={k: p[k] for k in ("valid", "bestpath") if k in p}))
        return routes

    def announce(self, prefix, **attrs):
        prefix = str(ipaddress.ip_network(prefix))
        at = self._check_attrs(attrs)
        self.routes[prefix] = at
        self._configure(*self._rmap_lines(prefix, at)[:-1], "exit",
                        "router bgp %d" % self.asn, "address-family ipv4 unicast",
                        "network %s route-map %s" % (prefix, self._rmap(prefix)))

    def withdraw(self, prefix):
        prefix = str(ipaddress.ip_network(prefix))
        self.routes.pop(prefix, None)
        self._configure("router bgp %d" % self.asn, "address-family ipv4 unicast",
                        "no network %s" % prefix, "exit-address-family", "exit",
                        "no route-map %s" % self._rmap(prefix))

    def shutdown_neighbor(self, ip):
        self._configure("router bgp %d" % self.asn,
                        "neighbor %s shutdown" % self.neighbor(ip)["ip"])

    def enable_neighbor(self, ip):
        self._configure("router bgp %d" % self.asn,
                        "no neighbor %s shutdown" % self.neighbor(ip)["ip"])


# ---------------------------------------------------------------------------------------------
# GoBGP 3.10

class Gobgp(_Daemon):
    """gobgpd -f conf.toml --pprof-disable --api-hosts 127.0.0.1:PORT (PORT free in the
    namespace, chosen at start); the gobgp CLI under the same `ip netns exec`. Announced
    prefixes are added to the global RIB with the CLI once the daemon is up."""

    kind = "gobgp"

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.conf = self._file("gobgpd.toml")
        self.pidfile = self._file("gobgpd.pid")
        self.log = self._file("gobgpd.log")
        self.api_port = None

    def _config(self):
        c = ["[global.config]",
             "  as = %d" % self.asn,
             '  router-id = "%s"' % self.router_id,
             "[global.apply-policy.config]",
             '  default-import-policy = "%s"' % ("accept-route" if self.import_all
                                                  else "reject-route"),
             '  default-export-policy = "accept-route"']
        for n in self.neighbors:
            c += ["[[neighbors]]", "  [neighbors.config]",
                  '    neighbor-address = "%s"' % n["ip"],
                  "    peer-as = %d" % n["asn"]]
            if n["password"]:
                c.append('    auth-password = "%s"' % n["password"])
            c += ["  [neighbors.timers.config]", "    connect-retry = 5"]
            if n["hold"]:
                c += ["    hold-time = %d" % n["hold"],
                      "    keepalive-interval = %d" % max(1, n["hold"] // 3)]
            if n["passive"] or n["local_ip"]:
                c.append("  [neighbors.transport.config]")
                if n["passive"]:
                    c.append("    passive-mode = true")
                if n["local_ip"]:
                    c.append('    local-address = "%s"' % n["local_ip"])
            if n["multihop"]:
                c += ["  [neighbors.ebgp-multihop.config]", "    enabled = true",
                      "    multihop-ttl = %d" % n["multihop"]]
            if n["ttl_security"]:
                c += ["  [neighbors.ttl-security.config]", "    enabled = true",
                      "    ttl-min = 255"]
            c += ["  [[neighbors.afi-safis]]", "    [neighbors.afi-safis.config]",
                  '      afi-safi-name = "ipv4-unicast"']
        c.append(self.extra)
        return "\n".join(c) + "\n"

    def _free_port(self):
        self._nsrun("ip", "link", "set", "lo", "up")
        with in_netns(self.netns):
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", 0))
                return s.getsockname()[1]
            finally:
                s.close()

    def gobgp(self, *args, check=True):
        return self._nsrun("gobgp", "-u", "127.0.0.1", "-p", str(self.api_port), *args,
                           check=check).stdout

    def start(self):
        self._mkdir()
        self.conf.write_text(self._config())
        self.api_port = self._free_port()
        p = self._spawn(["gobgpd", "-f", str(self.conf), "-t", "toml", "--pprof-disable",
                         "--api-hosts", "127.0.0.1:%d" % self.api_port, "-p", "-l", "info"],
                        self.log)
        self.pidfile.write_text("%d\n" % p.pid)
        self._wait_ready(lambda: self._nsrun("gobgp", "-u", "127.0.0.1", "-p",
                                             str(self.api_port), "global", check=False)
                         .returncode == 0, "gRPC API")
        for prefix, at in self.routes.items():
            self._add(prefix, at)
        return self

    def _add(self, prefix, at):
        args = ["global", "rib", "add", "-a", "ipv4", prefix]
        if at.get("origin"):
            args += ["origin", at["origin"].lower()]
        if at.get("as_path"):
            args += ["aspath", ",".join(str(int(a)) for a in at["as_path"])]
        args += ["nexthop", at.get("nexthop") or "0.0.0.0"]
        if at.get("med") is not None:
            args += ["med", str(at["med"])]
        if at.get("local_pref") is not None:
            args += ["local-pref", str(at["local_pref"])]
        if at.get("communities"):
            args += ["community", ",".join(_comm(c) for c in at["communities"])]
        self.gobgp(*args)

    def _neighbor_state(self, ip):
        out = self.gobgp("neighbor", str(ipaddress.ip_address(ip)), "-j", check=False)
        try:
            return json.loads(out)
        except ValueError:
            return {}

    def established(self, ip):
        st = self._neighbor_state(ip).get("state", {})
        return st.get("session_state") in (6, "ESTABLISHED", "established")

    def received_routes(self):
        d = json.loads(self.gobgp("global", "rib", "-a", "ipv4", "-j") or "{}")
        routes = {}
        for prefix, paths in d.items():
            for p in paths:
                peer = p.get("neighbor-ip") or p.get("neighbor_ip")
                if not peer or peer in ("<nil>", "0.0.0.0") or p.get("source-id") == "<nil>":
                    continue
                r = _route(peer)
                for a in p.get("attrs", []):
                    t = a.get("type")
                    if t == 1:
                        r["origin"] = {0: "igp", 1: "egp", 2: "incomplete"}.get(a.get("value"))
                    elif t == 2:
                        for seg in a.get("as_paths", []):
                            r["as_path"] += [int(x) for x in seg.get("asns", [])]
                    elif t == 3:
                        r["nexthop"] = a.get("nexthop")
                    elif t == 4:
                        r["med"] = a.get("metric")
                    elif t == 5:
                        r["local_pref"] = a.get("value")
                    elif t == 8:
                        r["communities"] = [_comm(int(c)) for c in a.get("communities", [])]
                    else:
                        r["other"][str(t)] = a
                routes.setdefault(prefix, []).append(r)
        return routes

    def announce(self, prefix, **attrs):
        prefix = str(ipaddress.ip_network(prefix))
        at = self._check_attrs(attrs)
        if prefix in self.routes:
            self.gobgp("global", "rib", "del", "-a", "ipv4", prefix)
        self.routes[prefix] = at
        self._add(prefix, at)

    def withdraw(self, prefix):
        prefix = str(ipaddress.ip_network(prefix))
        self.routes.pop(prefix, None)
        self.gobgp("global", "rib", "del", "-a", "ipv4", prefix)

    def shutdown_neighbor(self, ip):
        self.gobgp("neighbor", self.neighbor(ip)["ip"], "disable")

    def enable_neighbor(self, ip):
        self.gobgp("neighbor", self.neighbor(ip)["ip"], "enable")


# ---------------------------------------------------------------------------------------------
# ExaBGP 4.2

_EXA_HELPER = r'''
import os, sys, threading
fifo, events = sys.argv[1], sys.argv[2]
def receive():
    with open(events, "a") as f:
        for line in sys.stdin:
            f.write(line)
            f.flush()
    os._exit(0)
threading.Thread(target=receive, daemon=True).start()
while True:
    with open(fifo) as p:
        for line in p:
            sys.stdout.write(line)
            sys.stdout.flush()
'''


class Exabgp(_Daemon):
    """ExaBGP 4.2 in the foreground, as root without dropping privileges, no CLI pipes; its
    API process is a small helper that copies a FIFO (commands, workdir/api.in) to ExaBGP and
    ExaBGP's JSON messages and acknowledgements to workdir/events.jsonl, from which the
    session state and the received routes are read. Announcing and withdrawing are API
    commands; shutdown_neighbor/enable_neighbor drop the neighbor from the configuration and
    reload it (SIGUSR1)."""

    kind = "exabgp"

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.conf = self._file("exabgp.conf")
        self.pidfile = self._file("exabgp.pid")
        self.log = self._file("exabgp.log")
        self.fifo = self._file("api.in")
        self.events = self._file("events.jsonl")
        self.helper = self._file("api_helper.py")
        self.out = self._file("exabgp.out")
        self.procname = "api" + secrets.token_hex(3)
        self.disabled = set()
        self.local = {}
        self.raw_routes = {}

    def _config(self):
        c = ["process %s {" % self.procname,
             "  run %s %s %s %s;" % (sys.executable if os.path.exists(sys.executable)
                                     else "/usr/bin/python3", self.helper, self.fifo,
                                     self.events),
             "  encoder json;", "}"]
        for n in self.neighbors:
            if n["ip"] in self.disabled:
                continue
            c += ["neighbor %s {" % n["ip"],
                  "  router-id %s;" % self.router_id,
                  "  local-address %s;" % self.local[n["ip"]],
                  "  local-as %d;" % self.asn,
                  "  peer-as %d;" % n["asn"]]
            if n["hold"]:
                c.append("  hold-time %d;" % n["hold"])
            if n["password"]:
                c.append("  md5-password '%s';" % n["password"])
            if n["ttl_security"]:
                c += ["  outgoing-ttl 255;", "  incoming-ttl 255;"]
            elif n["multihop"]:
                c.append("  outgoing-ttl %d;" % n["multihop"])
            if n["passive"]:
                c += ["  passive true;", "  listen 179;"]
            c += ["  family { ipv4 unicast; }",
                  "  api { processes [ %s ]; neighbor-changes;" % self.procname,
                  "        receive { parsed; update; notification; } }",
                  "  static {"]
            for p, at in self.routes.items():
                c.append("    route %s %s;" % (p, self._attrs_text(at, n)))
            c += ["  }", "}"]
        c.append(self.extra)
        return "\n".join(c) + "\n"

    def _attrs_text(self, at, n, exact_as_path=None):
        """ExaBGP puts its own ASN in front only of an empty AS path: done here for eBGP,
        so that as_path means the same as with the other daemons. exact_as_path is sent as
        it is."""
        t = ["next-hop %s" % (at.get("nexthop") or "self")]
        if at.get("origin"):
            t.append("origin %s" % at["origin"].lower())
        path = exact_as_path
        if path is None and at.get("as_path"):
            path = ([self.asn] if n["asn"] != self.asn else []) + list(at["as_path"])
        if path is not None:
            t.append("as-path [ %s ]" % " ".join(str(int(a)) for a in path))
        if at.get("med") is not None:
            t.append("med %d" % at["med"])
        if at.get("local_pref") is not None:
            t.append("local-preference %d" % at["local_pref"])
        if at.get("communities"):
            t.append("community [ %s ]" % " ".join(_comm(c) for c in at["communities"]))
        return " ".join(t)

    def _env(self):
        env = dict(os.environ)
        env.update({"exabgp.daemon.user": "root", "exabgp.daemon.drop": "false",
                    "exabgp.daemon.daemonize": "false", "exabgp.daemon.pid": str(self.pidfile),
                    "exabgp.daemon.umask": "0o022",
                    "exabgp.log.destination": str(self.log), "exabgp.log.level": "INFO",
                    "exabgp.api.cli": "false", "exabgp.api.ack": "true",
                    "exabgp.api.respawn": "false", "exabgp.api.terminate": "true",
                    "exabgp.tcp.bind": "", "exabgp.bgp.openwait": "60"})
        return env

    def start(self):
        self._mkdir()
        for n in self.neighbors:
            self.local[n["ip"]] = self._local_ip(n)
        self.helper.write_text(_EXA_HELPER)
        os.mkfifo(self.fifo)
        self.events.write_text("")
        self.conf.write_text(self._config())
        self._spawn(["exabgp", str(self.conf)], self.out, env=self._env())
        self._wait_ready(lambda: self._fifo_open() is not None, "API process")
        return self

    def _logs(self):
        return [self.log, self.out]

    def _fifo_open(self):
        try:
            fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: the helper is not reading yet
            return None
        os.close(fd)
        return True

    def _acks(self):
        n = 0
        with open(self.events) as f:
            for line in f:
                if line.strip() in ("done", "error", "shutdown"):
                    n += 1
        return n

    def send(self, command, timeout=10):
        """One API command; waits for ExaBGP's acknowledgement; returns "done" or "error"."""
        before = self._acks()
        fd = wait_until(lambda: os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK), timeout,
                        what="exabgp API FIFO")
        try:
            os.set_blocking(fd, True)
            os.write(fd, (command.strip() + "\n").encode())
        finally:
            os.close(fd)
        wait_until(lambda: self._acks() > before, timeout, what="exabgp ack of %r" % command)
        with open(self.events) as f:
            acks = [ln.strip() for ln in f if ln.strip() in ("done", "error", "shutdown")]
        if acks[before] != "done":
            raise RuntimeError("exabgp refused %r:\n%s" % (command, self.log_tail()))
        return acks[before]

    def _messages(self):
        with open(self.events) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    try:
                        yield json.loads(line)
                    except ValueError:
                        continue

    def established(self, ip):
        ip = str(ipaddress.ip_address(ip))
        state = None
        for m in self._messages():
            if m.get("type") == "state" and m["neighbor"]["address"]["peer"] == ip:
                state = m["neighbor"].get("state")
        return state == "up"

    def received_routes(self):
        rib = {}  # (peer, prefix) -> route
        for m in self._messages():
            nb = m.get("neighbor", {})
            peer = nb.get("address", {}).get("peer")
            if m.get("type") == "state" and nb.get("state") in ("down", "connected"):
                for k in [k for k in rib if k[0] == peer]:
                    del rib[k]
                continue
            if m.get("type") != "update":
                continue
            upd = nb.get("message", {}).get("update", {})
            for fam, prefixes in upd.get("withdraw", {}).items():
                for p in prefixes:
                    rib.pop((peer, p["nlri"] if isinstance(p, dict) else p), None)
            at = upd.get("attribute", {})
            for fam, by_nh in upd.get("announce", {}).items():
                for nh, prefixes in by_nh.items():
                    for p in prefixes:
                        prefix = p["nlri"] if isinstance(p, dict) else p
                        asp = at.get("as-path", [])
                        if isinstance(asp, dict):  # segmented form
                            asp = [a for seg in asp.values() for a in seg.get("value", [])]
                        other = {k: v for k, v in at.items() if k not in (
                            "origin", "as-path", "med", "local-preference", "community",
                            "confederation-path")}
                        rib[(peer, prefix)] = _route(
                            peer, nexthop=nh, as_path=asp, med=at.get("med"),
                            local_pref=at.get("local-preference"),
                            communities=at.get("community", []), origin=at.get("origin"),
                            other=other)
        routes = {}
        for (peer, prefix), r in rib.items():
            routes.setdefault(prefix, []).append(r)
        return routes

    def _targets(self, neighbor):
        if neighbor:
            return [self.neighbor(neighbor)]
        return [n for n in self.neighbors if n["ip"] not in self.disabled]

    def announce(self, prefix, neighbor=None, **attrs):
        """Announces to every enabled neighbor, or to `neighbor` only."""
        prefix = str(ipaddress.ip_network(prefix))
        at = self._check_attrs(attrs)
        self.routes[prefix] = at
        for n in self._targets(neighbor):
            self.send("neighbor %s announce route %s %s" % (n["ip"], prefix,
                                                             self._attrs_text(at, n)))

    def withdraw(self, prefix, neighbor=None):
        """Withdraws a prefix announced with announce() or announce_raw() (ExaBGP keeps API
        routes across session resets: a raw route that resets the session must be
        withdrawn before the session can come back)."""
        prefix = str(ipaddress.ip_network(prefix))
        at = self.routes.pop(prefix, None) or self.raw_routes.pop(prefix, {})
        for n in self._targets(neighbor):
            self.send("neighbor %s withdraw route %s next-hop %s" % (
                n["ip"], prefix, at.get("nexthop") or "self"))

    @staticmethod
    def raw_attribute(a):
        """(type, flags, value) -> "0xTYPE 0xFLAGS 0xVALUE"; strings pass through."""
        if isinstance(a, str):
            return a
        t, flags, value = a
        if isinstance(value, (bytes, bytearray)):
            value = value.hex()
        value = str(value)
        if value.lower().startswith("0x"):
            value = value[2:]
        return "0x%02x 0x%02x 0x%s" % (int(t), int(flags), value or "")

    def announce_raw(self, prefix, nexthop, attributes, neighbor=None, exact_as_path=None,
                     **attrs):
        """Announces prefix with extra attributes sent as given, each
        `attribute [ 0xTYPE 0xFLAGS 0xVALUE ]`: for RFC 7606 tests (treat-as-withdraw,
        attribute discard, session reset). attributes: (type, flags, value bytes or hex)
        tuples or ready strings. exact_as_path: an AS_PATH sent exactly (nothing prepended).
        Returns the commands sent."""
        prefix = str(ipaddress.ip_network(prefix))
        at = self._check_attrs(dict(attrs, nexthop=nexthop))
        raw = " ".join("attribute [ %s ]" % self.raw_attribute(a) for a in attributes)
        self.raw_routes[prefix] = at
        cmds = []
        for n in self._targets(neighbor):
            cmds.append("neighbor %s announce route %s %s %s" % (
                n["ip"], prefix, self._attrs_text(at, n, exact_as_path), raw))
            self.send(cmds[-1])
        return cmds

    def _reloads(self):
        try:
            return self.log.read_text(errors="replace").count("loaded new configuration")
        except FileNotFoundError:
            return 0

    def _reload(self):
        """Rewrites the configuration and has ExaBGP reload it (SIGUSR1), waiting until it
        has (a second signal while one is being handled would be ignored)."""
        self.conf.write_text(self._config())
        before = self._reloads()
        os.kill(self.procs[0].pid, signal.SIGUSR1)
        wait_until(lambda: self._reloads() > before, 10, what="exabgp configuration reload")

    def shutdown_neighbor(self, ip):
        self.disabled.add(self.neighbor(ip)["ip"])
        self._reload()

    def enable_neighbor(self, ip):
        self.disabled.discard(self.neighbor(ip)["ip"])
        self._reload()



# ---------------------------------------------------------------------------------------------
# A raw BGP speaker

OPEN, UPDATE, NOTIFICATION, KEEPALIVE, ROUTE_REFRESH = 1, 2, 3, 4, 5
MARKER = b"\xff" * 16
AS_TRANS = 23456

Notification = collections.namedtuple("Notification", "code subcode data")


def bgp_msg(mtype, body=b"", marker=MARKER, length=None):
    """A BGP message; marker and length can be made wrong on purpose."""
    if length is None:
        length = 19 + len(body)
    return marker + struct.pack("!HB", length, mtype) + body


def capability(code, value=b""):
    return struct.pack("!BB", code, len(value)) + value


def default_caps(asn):
    return [capability(1, struct.pack("!HBB", 1, 0, 1)),   # MP: IPv4 unicast
            capability(2),                                 # route refresh
            capability(65, struct.pack("!I", asn))]        # 4-octet AS


def open_body(asn, hold, router_id, version=4, caps=None, opt_params=None):
    """OPEN body. caps: list of encoded capabilities (default: MP IPv4, route refresh, 4-octet
    AS), each put in its own optional parameter type 2; opt_params: raw bytes instead."""
    if opt_params is None:
        caps = default_caps(asn) if caps is None else caps
        opt_params = b"".join(struct.pack("!BB", 2, len(c)) + c for c in caps)
    my_as = asn if asn <= 0xFFFF else AS_TRANS
    return struct.pack("!BHH4sB", version, my_as, hold,
                       ipaddress.ip_address(router_id).packed, len(opt_params)) + opt_params


def attr(atype, value, flags=None):
    """A path attribute; flags default to the standard ones for the type (extended length
    added when the value needs it)."""
    if flags is None:
        flags = {1: 0x40, 2: 0x40, 3: 0x40, 4: 0x80, 5: 0x40, 6: 0x40, 7: 0xC0,
                 8: 0xC0}.get(atype, 0xC0)
        if len(value) > 255:
            flags |= 0x10
    if flags & 0x10:
        return struct.pack("!BBH", flags, atype, len(value)) + value
    return struct.pack("!BBB", flags, atype, len(value)) + value


def a_origin(o=0):
    return attr(1, bytes([o]))


def a_as_path(asns, four=True):
    if not asns:
        return attr(2, b"")
    fmt = "!%d%s" % (len(asns), "I" if four else "H")
    return attr(2, struct.pack("!BB", 2, len(asns)) + struct.pack(fmt, *asns))


def a_next_hop(ip):
    return attr(3, ipaddress.ip_address(ip).packed)


def a_med(v):
    return attr(4, struct.pack("!I", v))


def a_local_pref(v):
    return attr(5, struct.pack("!I", v))


def a_communities(cs):
    vals = []
    for c in cs:
        a, b = _comm(c).split(":")
        vals.append((int(a) << 16) | int(b))
    return attr(8, struct.pack("!%dI" % len(vals), *vals))


def prefix_bytes(prefix):
    n = ipaddress.ip_network(prefix)
    return bytes([n.prefixlen]) + n.network_address.packed[:(n.prefixlen + 7) // 8]


def update_body(nlri=(), withdrawn=(), attrs=b""):
    """UPDATE body; attrs is bytes or a list of encoded attributes."""
    if not isinstance(attrs, (bytes, bytearray)):
        attrs = b"".join(attrs)
    w = b"".join(prefix_bytes(p) for p in withdrawn)
    return (struct.pack("!H", len(w)) + w + struct.pack("!H", len(attrs)) + attrs +
            b"".join(prefix_bytes(p) for p in nlri))


def decode_prefixes(b):
    out, i = [], 0
    while i < len(b):
        ln = b[i]
        n = (ln + 7) // 8
        addr = (bytes(b[i + 1:i + 1 + n]) + b"\0" * 4)[:4]
        out.append("%s/%d" % (ipaddress.ip_address(addr), ln))
        i += 1 + n
    return out


def decode_update(body):
    """-> {"withdrawn": [...], "nlri": [...], "attrs": {type: (flags, value bytes)}}"""
    wl = struct.unpack("!H", body[:2])[0]
    withdrawn = decode_prefixes(body[2:2 + wl])
    al = struct.unpack("!H", body[2 + wl:4 + wl])[0]
    ab = body[4 + wl:4 + wl + al]
    attrs, i = {}, 0
    while i < len(ab):
        flags, t = ab[i], ab[i + 1]
        if flags & 0x10:
            ln = struct.unpack("!H", ab[i + 2:i + 4])[0]
            i += 4
        else:
            ln = ab[i + 2]
            i += 3
        attrs[t] = (flags, ab[i:i + ln])
        i += ln
    return {"withdrawn": withdrawn, "nlri": decode_prefixes(body[4 + wl + al:]), "attrs": attrs}


def decode_open(body):
    version, asn, hold, rid, olen = struct.unpack("!BHH4sB", body[:10])
    return {"version": version, "asn": asn, "hold": hold,
            "router_id": str(ipaddress.ip_address(rid)), "opt_params": body[10:10 + olen]}


class RawBgp:
    """A hand-driven BGP speaker: a TCP socket opened inside `netns` (setns from this
    thread), bound to local_ip, connected to peer_ip:port. Nothing is automatic: no
    keepalives are sent unless asked."""

    def __init__(self, netns, local_ip, peer_ip, local_asn=65010, router_id=None, hold=90,
                 port=179, md5=None, ttl=None):
        self.netns = netns
        self.local_ip = local_ip
        self.peer_ip = peer_ip
        self.asn = local_asn
        self.router_id = router_id or local_ip
        self.hold = hold
        self.port = port
        self.md5 = md5
        self.ttl = ttl
        self.sock = None
        self._buf = b""
        self.peer_open = None

    def _socket(self):
        with in_netns(self.netns):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if self.md5:
            # struct tcp_md5sig: sockaddr_storage, flags u8, prefixlen u8, keylen u16, ifindex
            # u32, key[80]
            sa = struct.pack("!HH4s", socket.AF_INET, 0,
                             ipaddress.ip_address(self.peer_ip).packed)
            sa = struct.pack("=H", socket.AF_INET) + sa[2:]
            sa += b"\0" * (128 - len(sa))
            key = self.md5.encode()
            s.setsockopt(socket.IPPROTO_TCP, 14, sa + struct.pack("=BBHI", 0, 0, len(key), 0) +
                         key + b"\0" * (80 - len(key)))
        if self.ttl:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, self.ttl)
        s.bind((self.local_ip, 0))
        return s

    def connect(self, timeout=15):
        """Connects, retrying refused attempts until timeout (the peer may not listen yet)."""
        def attempt():
            s = self._socket()
            s.settimeout(2)
            try:
                s.connect((self.peer_ip, self.port))
            except OSError:
                s.close()
                raise
            return s
        self.sock = wait_until(attempt, timeout, interval=0.2,
                               what="TCP connection to %s:%d" % (self.peer_ip, self.port))
        self._buf = b""
        return self

    def send(self, data):
        self.sock.sendall(data)

    def send_msg(self, mtype, body=b"", marker=MARKER, length=None):
        self.send(bgp_msg(mtype, body, marker, length))

    def send_open(self, asn=None, hold=None, router_id=None, version=4, caps=None,
                  opt_params=None):
        self.send_msg(OPEN, open_body(self.asn if asn is None else asn,
                                      self.hold if hold is None else hold,
                                      router_id or self.router_id, version, caps, opt_params))

    def send_keepalive(self):
        self.send_msg(KEEPALIVE)

    def send_update(self, nlri=(), withdrawn=(), attrs=None, nexthop=None, as_path=None,
                    med=None, communities=None):
        """An UPDATE; attrs (bytes or list) replaces the attributes built from the other
        arguments (ORIGIN IGP, AS_PATH [our ASN] + as_path, NEXT_HOP, MED, COMMUNITIES)."""
        if attrs is None:
            attrs = []
            if nlri:
                attrs = [a_origin(0), a_as_path([self.asn] + list(as_path or [])),
                         a_next_hop(nexthop or self.local_ip)]
                if med is not None:
                    attrs.append(a_med(med))
                if communities:
                    attrs.append(a_communities(communities))
        self.send_msg(UPDATE, update_body(nlri, withdrawn, attrs))

    def recv(self, timeout=10):
        """The next message as (type, body), or None when the peer closed the connection."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self._buf) >= 19:
                ln = struct.unpack("!H", self._buf[16:18])[0]
                if ln < 19:
                    raise ValueError("bad length %d from peer" % ln)
                if len(self._buf) >= ln:
                    msg, self._buf = self._buf[:ln], self._buf[ln:]
                    return msg[18], msg[19:]
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no complete BGP message from %s in %.1fs"
                                   % (self.peer_ip, timeout))
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                continue
            try:
                b = self.sock.recv(65536)
            except ConnectionResetError:
                b = b""
            if not b:
                return None
            self._buf += b

    def establish(self, timeout=10, **open_kw):
        """OPEN, the peer's OPEN, KEEPALIVE, the peer's KEEPALIVE: the session is
        Established. Returns the peer's OPEN decoded."""
        if self.sock is None:
            self.connect()
        self.send_open(**open_kw)
        deadline = time.monotonic() + timeout
        got_open = False
        while True:
            m = self.recv(max(0.1, deadline - time.monotonic()))
            if m is None:
                raise ConnectionError("peer closed the connection during OPEN exchange")
            t, body = m
            if t == NOTIFICATION:
                raise ConnectionError("peer sent NOTIFICATION %s" % (decode_notification(body),))
            if t == OPEN:
                self.peer_open = decode_open(body)
                got_open = True
                self.send_keepalive()
            elif t == KEEPALIVE and got_open:
                return self.peer_open

    def expect_notification(self, timeout=10):
        """Reads until a NOTIFICATION (returned decoded) and skips other messages; fails if
        the peer closes the connection without one."""
        deadline = time.monotonic() + timeout
        while True:
            m = self.recv(max(0.1, deadline - time.monotonic()))
            if m is None:
                raise ConnectionError("peer closed the connection without a NOTIFICATION")
            if m[0] == NOTIFICATION:
                return decode_notification(m[1])
            if m[0] == OPEN:
                self.peer_open = decode_open(m[1])

    def closed(self, timeout=5):
        """True once the peer has closed the connection (messages before that skipped)."""
        try:
            while True:
                if self.recv(timeout) is None:
                    return True
        except TimeoutError:
            return False

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def raw_established(vm, gw, local_asn, timeout=30, **kw):
    """A RawBgp from a VM (a topolab VM: ns, ip) to its gateway, Established; retried, as a
    previous connection of the port may still be closing in routerd."""
    def attempt():
        r = RawBgp(vm.ns, vm.ip, gw, local_asn=local_asn, **kw)
        try:
            r.connect(timeout=5)
            r.establish(timeout=5)
        except Exception:
            r.close()
            raise
        return r
    return wait_until(attempt, timeout, interval=0.5, what="raw BGP session from %s" % vm.ip)


def decode_notification(body):
    return Notification(body[0] if body else None, body[1] if len(body) > 1 else None,
                        bytes(body[2:]))
