"""The 30 clients of the retry-storm scenario, as one event loop (selectors, standard library).

Each client is a small state machine with its own keep-alive connection and its own
`X-Request-Id`: it sends one logical request (GET /stock/ITEM) and, until it gets a 200, retries.
One loop drives all of them, so that a client that is told "retry now" really sends at once (30
threads would queue for the interpreter lock and turn "at once" into "after a few ms"), and all
30 start in the same loop pass (the barrier).

    policy "naive":   retry the moment the 503 arrives
    policy "backoff": sleep uniform(0, min(cap, base * 2**k)) before retry k+1 (full jitter),
                      drawn from a generator seeded per client, so a seed replays the same sleeps
"""

import heapq
import random
import selectors
import socket
import time


class Client:
    def __init__(self, index, port, policy, rng, max_attempts, base, cap):
        self.index, self.port, self.policy, self.rng = index, port, policy, rng
        self.max_attempts, self.base, self.cap = max_attempts, base, cap
        self.request = ("GET /stock/widget-%d HTTP/1.1\r\nHost: inventory\r\nX-Request-Id: client-%02d\r\n\r\n"
                        % (index, index)).encode()
        self.sock = None
        self.buffer = b""
        self.attempts = 0
        self.failures = 0
        self.statuses = {}
        self.sleeps = []
        self.done_at = None

    def connect(self):
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.buffer = b""

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def response(self):
        """The status of the complete response at the head of the buffer (consumed), else None."""
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return None
        head = self.buffer[:head_end].decode("latin-1").split("\r\n")
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        end = head_end + 4 + length
        if len(self.buffer) < end:
            return None
        self.buffer = self.buffer[end:]
        return int(head[0].split(" ")[1])


def connect(port, count, policy, seed, max_attempts=5000, base=0.100, cap=5.0):
    """`count` clients, each with its connection open (before the outage starts)."""
    clients = [Client(i, port, policy, random.Random(seed * 1000 + i), max_attempts, base, cap) for i in range(count)]
    for c in clients:
        c.connect()
    return clients


def run(clients, timeout=30.0):
    """Runs the clients until each got its 200 (or spent its attempts); when they started."""
    selector = selectors.DefaultSelector()
    for c in clients:
        selector.register(c.sock, selectors.EVENT_READ, c)
    timers = []  # (due, index): a backing-off client's next attempt
    pending = len(clients)

    def send(c):
        c.attempts += 1
        try:
            c.sock.sendall(c.request)
        except OSError:
            reconnect(c)
            c.sock.sendall(c.request)

    def reconnect(c):
        selector.unregister(c.sock)
        c.close()
        c.connect()
        selector.register(c.sock, selectors.EVENT_READ, c)

    def finished(c, status):
        nonlocal pending
        c.statuses[status] = c.statuses.get(status, 0) + 1
        if status == 200:
            c.done_at = time.monotonic()
            pending -= 1
            return
        c.failures += 1
        if c.attempts >= c.max_attempts:
            pending -= 1
            return
        if c.policy == "naive":
            send(c)  # straight back to the door
        else:
            sleep = c.rng.uniform(0, min(c.cap, c.base * 2 ** (c.failures - 1)))
            c.sleeps.append(sleep)
            heapq.heappush(timers, (time.monotonic() + sleep, c.index))

    started = time.monotonic()
    for c in clients:  # the barrier: every client sends its request in this one pass
        send(c)
    while pending > 0 and time.monotonic() - started < timeout:
        now = time.monotonic()
        while timers and timers[0][0] <= now:
            _, index = heapq.heappop(timers)
            send(clients[index])
        wait = max(0.0, timers[0][0] - time.monotonic()) if timers else 1.0
        for key, _ in selector.select(min(wait, 1.0)):
            c = key.data
            try:
                data = c.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:  # the connection closed under the request: a failed attempt
                reconnect(c)
                finished(c, None)
                continue
            c.buffer += data
            while True:
                status = c.response()
                if status is None:
                    break
                finished(c, status)
    for c in clients:
        c.close()
    selector.close()
    return started
