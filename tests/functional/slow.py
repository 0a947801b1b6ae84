"""Misbehaving HTTP clients, for the slow-client tests and bench/slow_clients.py: connections that
trickle their headers or their bodies a byte at a time, or send requests and never read."""
import socket
import threading
import urllib.parse


class Slow:
    """One misbehaving connection. kind: "header" trickles its request headers, "body" sends its
    headers and trickles a buffered body, "upload" trickles a streamed upload, "reader" sends
    pipelined requests and never reads. step() sends the next byte; poll() reads what the server
    sent (except for readers) and notes when it closed the connection."""

    def __init__(self, gw, kind, auth=None, directory=None):
        self.kind = kind
        self.sock = socket.socket()
        if kind == "reader":  # a small window, so the server's writes block soon
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", gw.port))
        self.received = b""
        self.closed = False
        self.sent = 0
        if kind == "header":
            self.sock.sendall(b"GET /status/liveness/ HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        elif kind == "body":
            self.sock.sendall(b"POST /filesystem/hpc/ops/mkdir HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
        elif kind == "upload":
            query = urllib.parse.urlencode({"path": directory})
            self.sock.sendall(f"POST /filesystem/hpc/ops/upload?{query} HTTP/1.1\r\nHost: x\r\n"
                              f"Authorization: {auth['Authorization']}\r\n"
                              "Content-Type: multipart/form-data; boundary=slow\r\nContent-Length: 100000\r\n\r\n"
                              "--slow\r\nContent-Disposition: form-data; name=\"file\"; "
                              "filename=\"slow.txt\"\r\n\r\n".encode())
        elif kind == "reader":
            self.sock.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n" * 100)
        self.sock.setblocking(False)

    def step(self):
        if self.closed or self.kind == "reader" or self.received:
            return  # an answered trickler only waits for the close
        try:
            self.sent += self.sock.send(b"a")
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self.closed = True

    def poll(self):
        if self.closed or self.kind == "reader":
            return
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    self.closed = True
                    return
                self.received += data
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:  # reset: the server closed while bytes were still coming
            self.closed = True


class Trickle:
    """Steps every connection every 50 ms in a thread of its own until stopped: the trickle is the
    behaviour under test, not a wait."""

    def __init__(self, conns):
        self.conns = conns
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.wait(0.05):
            for c in self.conns:
                c.poll()
                c.step()

    def all_closed(self, kinds=("header", "body", "upload")):
        return all(c.closed for c in self.conns if c.kind in kinds)

    def close(self):
        self.stop.set()
        self.thread.join()
        for c in self.conns:
            c.sock.close()
