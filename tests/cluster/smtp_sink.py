"""A tiny SMTP sink for the cluster test: accepts every message on 127.0.0.1:PORT and writes
each one's DATA to SPOOL/<n>.eml (renamed into place, so a reader never sees half a mail).

    python3 smtp_sink.py PORT SPOOL

Speaks just what tokend's mailer (lettre) sends: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
QUIT. Stopped by its PID like every other process of the test."""

import itertools
import os
import socketserver
import sys
import threading

COUNTER = itertools.count(1)
COUNTER_LOCK = threading.Lock()


class Handler(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        self.reply("220 cluster-test sink")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line.decode(errors="replace").strip().split(" ")[0].upper()
            if verb == "EHLO":
                self.wfile.write(b"250-sink\r\n250 8BITMIME\r\n")
                self.wfile.flush()
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                self.store(self.read_data())
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")

    def read_data(self):
        lines = []
        while True:
            line = self.rfile.readline()
            if not line or line in (b".\r\n", b".\n"):
                return b"".join(lines)
            lines.append(line[1:] if line.startswith(b"..") else line)

    def store(self, data):
        with COUNTER_LOCK:
            n = next(COUNTER)
        spool = self.server.spool
        tmp = os.path.join(spool, ".%d.tmp" % n)
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(spool, "%d.eml" % n))


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    port, spool = int(sys.argv[1]), sys.argv[2]
    os.makedirs(spool, exist_ok=True)
    with Server(("127.0.0.1", port), Handler) as server:
        server.spool = spool
        server.serve_forever()


if __name__ == "__main__":
    main()
