"""Runs a moto server for sageflow's integration tests (see tests/it/support/mod.rs).

Usage: python moto_server.py [PORT]   (PORT 0 or absent: any free port)

Listens on 127.0.0.1 only, prints one line `MOTO_READY <port>` on stdout once the server
accepts connections, then serves until its standard input reaches end of file, which
happens when the test binary that started it exits (however it exits: the binary holds
the only write end of the pipe), and stops.
"""

import logging
import os
import sys

import datetime

import moto.logs.models
from moto.server import ThreadedMotoServer

# CloudWatch Logs takes only events of the last 14 days (PutLogEvents rejects older ones,
# as AWS does), and the tests' events are the sample's records, stamped 2026-11-20. The
# logs backend reads its clock for that check alone, so it reads the day after the
# sample, whatever the date the tests run on; the rest of moto keeps the real clock.
SAMPLE_NOW = datetime.datetime(2026, 11, 21)
assert hasattr(moto.logs.models, "utcnow"), "moto's logs backend no longer reads utcnow: update moto_server.py"
moto.logs.models.utcnow = lambda: SAMPLE_NOW


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    # One log line per request would only fill the log file; failures still show.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    _, bound = server.get_host_and_port()
    print(f"MOTO_READY {bound}", flush=True)
    try:
        while sys.stdin.buffer.read(65536):
            pass
    finally:
        try:
            server.stop()
        finally:
            # Do not wait for stray request threads.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)


if __name__ == "__main__":
    main()
