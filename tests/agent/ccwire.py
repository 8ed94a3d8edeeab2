"""A small encoder/decoder for the control-channel wire format (src/lib/cc.h, cc.c), written
independently of the C code from the header's description, for talking to veneerd's agent
port from a raw TCP socket.

Header (8 bytes, big endian): u16 magic 0x564e ("VN"), u8 version 1, u8 type, u32 total length
(header included). Strings are a u8 length and that many printable ASCII bytes. Addresses are
u8 family (0, 4, 6), u8 prefix length, 16 bytes. IPv4 prefixes are u32 address, u8 length.
"""

import ipaddress
import socket
import struct
import time

MAGIC = 0x564E
VERSION = 1
HDR = struct.Struct(">HBBI")
HDR_LEN = 8
MAX_MSG = 64 * 1024

(HELLO, WELCOME, BEGIN, END, ACK, PING, PONG, ERROR, HOST, NET, ROUTER, LINK, SUBNET, PORT,
 ROUTE, DELETE, PORT_STATE, STATS, LROUTE, BGPCONF, LEARNED, UNLEARN, BGPSESS,
 CLAIM) = range(1, 25)
TYPE_MAX = 25  # the first unknown type; a new message type makes the "unknown type" cases fail
NAMES = {v: k for k, v in dict(
    HELLO=HELLO, WELCOME=WELCOME, BEGIN=BEGIN, END=END, ACK=ACK, PING=PING, PONG=PONG,
    ERROR=ERROR, HOST=HOST, NET=NET, ROUTER=ROUTER, LINK=LINK, SUBNET=SUBNET, PORT=PORT,
    ROUTE=ROUTE, DELETE=DELETE, PORT_STATE=PORT_STATE, STATS=STATS, LROUTE=LROUTE,
    BGPCONF=BGPCONF, LEARNED=LEARNED, UNLEARN=UNLEARN, BGPSESS=BGPSESS, CLAIM=CLAIM).items()}
MAX_REASONS, MAX_STAT_PORTS = 64, 800

ENCAP_VXLAN, ENCAP_EMBED6 = 1, 2
ROLE_AGENT, ROLE_ROUTERD = 0, 1
SNAPSHOT, DELTA = 1, 2


# --- encoding -----------------------------------------------------------------------------

def header(mtype, total_len, magic=MAGIC, version=VERSION):
    return HDR.pack(magic, version, mtype, total_len)


def frame(mtype, body=b"", magic=MAGIC, version=VERSION, length=None):
    """A whole message; `length` overrides the length field (default: the true length)."""
    n = HDR_LEN + len(body) if length is None else length
    return header(mtype, n, magic, version) + body


def s(text):
    b = text if isinstance(text, bytes) else text.encode()
    assert len(b) < 256
    return bytes([len(b)]) + b


def addr(text=None, length=None):
    """Wire address of an IPv4/IPv6 address or IPv6 prefix ('fd00::/56'); None = none."""
    if text is None:
        return bytes(18)
    if "/" in text:
        net = ipaddress.ip_network(text, strict=False)
        return bytes([net.version, net.prefixlen]) + net.network_address.packed.ljust(16, b"\0")
    a = ipaddress.ip_address(text)
    plen = length if length is not None else (32 if a.version == 4 else 128)
    return bytes([a.version, plen]) + a.packed.ljust(16, b"\0")


def u8(v):
    return struct.pack(">B", v)


def u16(v):
    return struct.pack(">H", v)


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def hello_body(host, credential, address="192.0.2.1", encap=ENCAP_VXLAN, prefix=None,
               revision=0, nets=(), min_version=VERSION, max_version=VERSION, nonce=0,
               role=ROLE_AGENT):
    host_b = host if isinstance(host, bytes) else host.encode()
    cred_b = credential if isinstance(credential, bytes) else credential.encode()
    body = u8(min_version) + u8(max_version) + s(host_b) + s(cred_b) + u8(encap) + u8(role)
    body += addr(address) + addr(prefix) + u64(revision) + u64(nonce) + u16(len(nets))
    for n in nets:
        body += s(n)
    return body


def hello(host, credential, **kw):
    return frame(HELLO, hello_body(host, credential, **kw))


def stats_body(reasons=(), ports=(), nreasons=None, nports=None):
    """STATS: u8 nreasons, u16 nports, then (str name, u64 count) per reason and
    (str port id, u64 rx, u64 tx, u64 drops) per port."""
    body = u8(len(reasons) if nreasons is None else nreasons)
    body += u16(len(ports) if nports is None else nports)
    for name, count in reasons:
        body += s(name) + u64(count)
    for pid, rx, tx, drops in ports:
        body += s(pid) + u64(rx) + u64(tx) + u64(drops)
    return body


def stats(reasons=(), ports=(), **kw):
    return frame(STATS, stats_body(reasons, ports, **kw))


def ping(stamp=1):
    return frame(PING, u64(stamp))


def ack(rev):
    return frame(ACK, u64(rev))


# --- decoding -----------------------------------------------------------------------------

class Cursor:
    def __init__(self, data):
        self.d, self.o = data, 0

    def take(self, n):
        if self.o + n > len(self.d):
            raise ValueError("short body")
        b = self.d[self.o:self.o + n]
        self.o += n
        return b

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack(">H", self.take(2))[0]

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def u64(self):
        return struct.unpack(">Q", self.take(8))[0]

    def str(self):
        b = self.take(self.u8())
        if any(c < 0x20 or c > 0x7E for c in b):
            raise ValueError("non-printable string %r" % b)
        return b.decode()

    def done(self):
        if self.o != len(self.d):
            raise ValueError("%d bytes left over" % (len(self.d) - self.o))


class Msg:
    def __init__(self, mtype, body):
        self.type = mtype
        self.body = body
        self.fields = {}
        c = Cursor(body)
        if mtype == ERROR:
            self.fields = {"code": c.u16(), "reason": c.str()}
        elif mtype == WELCOME:
            self.fields = {"version": c.u8(), "revision": c.u64()}
        elif mtype == BEGIN:
            self.fields = {"kind": c.u8(), "revision": c.u64()}
        elif mtype == END:
            self.fields = {"value": c.u64(), "nonce": c.u64()}
        elif mtype in (ACK, PING, PONG):
            self.fields = {"value": c.u64()}
        elif mtype == DELETE:
            self.fields = {"kind": c.u8(), "id": c.str()}
        else:
            c.o = len(body)  # objects: not decoded here
        c.done()

    @property
    def name(self):
        return NAMES.get(self.type, "type%d" % self.type)

    def __getitem__(self, k):
        return self.fields[k]

    def __repr__(self):
        return "<%s %r>" % (self.name, self.fields or len(self.body))


def parse_stream(data):
    """Splits received bytes into messages; raises ValueError on a malformed frame."""
    out, off = [], 0
    while off < len(data):
        if len(data) - off < HDR_LEN:
            raise ValueError("trailing %d bytes" % (len(data) - off))
        magic, version, mtype, n = HDR.unpack_from(data, off)
        if magic != MAGIC or version != VERSION or n < HDR_LEN or n > MAX_MSG:
            raise ValueError("bad header %r" % data[off:off + HDR_LEN])
        if len(data) - off < n:
            raise ValueError("truncated message")
        out.append(Msg(mtype, data[off + HDR_LEN:off + n]))
        off += n
    return out


# --- a raw client ---------------------------------------------------------------------------

class Raw:
    """A raw TCP connection to the agent port."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.reset = False

    def send(self, data):
        """Sends all it can; False if the peer closed/reset meanwhile."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def shut_write(self):
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def read_until_eof(self, timeout=10.0):
        """Everything until the peer closes. Raises AssertionError if it stays open past
        timeout. A reset (unread data of ours when veneerd closed) also counts as closed."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("veneerd kept the connection open for %.0fs (got %r)"
                                     % (timeout, self.buf[:200]))
            self.sock.settimeout(left)
            try:
                b = self.sock.recv(65536)
            except ConnectionResetError:
                self.reset = True
                return self.buf
            except socket.timeout:
                continue
            if not b:
                return self.buf
            self.buf += b

    def read_msgs(self, count, timeout=10.0):
        """Reads until at least `count` whole messages arrived; returns all received so far.
        Fails on timeout or if the connection closes first."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                msgs = parse_stream(self.buf)
            except ValueError:
                msgs = None
            if msgs is not None and len(msgs) >= count:
                return msgs
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for %d messages; got %r"
                                     % (count, self.buf[:300]))
            self.sock.settimeout(left)
            try:
                b = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not b:
                msgs = parse_stream(self.buf)
                if len(msgs) < count:
                    raise AssertionError("connection closed after %d of %d messages: %r"
                                         % (len(msgs), count, msgs))
                return msgs
            self.buf += b

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# --- virtual IP claims ----------------------------------------------------------------------

CLAIM_GARP, CLAIM_BGP, RELEASE_BGP, CLAIMS_SYNCED = 1, 2, 3, 4


def claim_body(port, ip, how=CLAIM_GARP):
    """CLAIM (agent or routerd -> veneerd): str port id, u32 IPv4 address, u8 how (1 a
    gratuitous ARP, 2 a /32 announced by BGP, 3 that /32 withdrawn or its session gone)."""
    return s(port) + u32(int(ipaddress.IPv4Address(ip))) + u8(how)


def claim(port, ip, how=CLAIM_GARP):
    return frame(CLAIM, claim_body(port, ip, how))


def port_fields(body):
    """Decodes a PORT body: str id, network, subnet, host; 6-byte MAC; u32 ip; u8 flags;
    u32 slot; str device; u8 n + n u32 extra addresses; u8 n + n (u32, u8) claimable
    prefixes; u8 n + n u32 addresses held now (virtual IPs)."""
    c = Cursor(body)
    ip4 = lambda v: str(ipaddress.IPv4Address(v))  # noqa: E731
    p = {"id": c.str(), "network": c.str(), "subnet": c.str(), "host": c.str()}
    p["mac"] = c.take(6).hex(":")
    p["ip"] = ip4(c.u32())
    p["flags"] = c.u8()
    p["slot"] = c.u32()
    p["device"] = c.str()
    p["extra_ips"] = [ip4(c.u32()) for _ in range(c.u8())]
    p["claimable"] = ["%s/%d" % (ip4(c.u32()), c.u8()) for _ in range(c.u8())]
    p["owned"] = [ip4(c.u32()) for _ in range(c.u8())]
    c.done()
    return p
