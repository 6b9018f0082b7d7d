"""A mostly idle program: it waits on a socket and on sleeps, and computes little.

What it shows: why py-spy has an idle mode. A small echo server thread answers
over a ``socket.socketpair`` after a delay, and the client also sleeps in
``wait_for_database``. Profiled normally, the report has few samples and
only ``parse_response`` looks busy; with the "idle" option, the waiting in
``fetch_over_socket`` (``recv``) and ``wait_for_database`` (``sleep``)
shows up, which is where the wall-clock time really goes.

Run:  python io_bound.py --runtime 3
"""

import argparse
import json
import socket
import threading
import time

SERVER_DELAY_S = 0.02
DATABASE_DELAY_S = 0.03
MESSAGE_BYTES = 4096


def echo_server(connection):
    """Answer every message after a short delay, like a slow backend."""
    while True:
        message = connection.recv(MESSAGE_BYTES)
        if not message:
            return
        time.sleep(SERVER_DELAY_S)
        connection.sendall(message)


def fetch_over_socket(connection, payload):
    """Send a request and block until the answer arrives."""
    connection.sendall(json.dumps(payload).encode())
    return connection.recv(MESSAGE_BYTES)


def wait_for_database():
    """Stand-in for a query that keeps the program waiting."""
    time.sleep(DATABASE_DELAY_S)


def parse_response(raw):
    """The only real work: decode and total a small answer."""
    answer = json.loads(raw)
    return sum(int(value) for value in answer["values"])


def run_client(runtime_s):
    """Make requests until ``runtime_s`` seconds have passed; return how many."""
    client, server = socket.socketpair()
    threading.Thread(target=echo_server, args=(server,), name="echo-server", daemon=True).start()
    deadline, requests = time.perf_counter() + runtime_s, 0
    with client, server:
        while time.perf_counter() < deadline:
            wait_for_database()
            raw = fetch_over_socket(client, {"id": requests, "values": list(range(200))})
            parse_response(raw)
            requests += 1
        client.shutdown(socket.SHUT_WR)  # lets the server thread finish
    return requests


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", type=float, default=3.0, help="seconds to run (default 3)")
    args = parser.parse_args()
    started = time.perf_counter()
    requests = run_client(args.runtime)
    elapsed = time.perf_counter() - started
    cpu = time.process_time()
    print(f"{requests} requests in {elapsed:.1f} s wall time, {cpu:.2f} s CPU time")


if __name__ == "__main__":
    main()
