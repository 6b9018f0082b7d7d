"""Open a TCP connection to the listener the test started on 127.0.0.1 (port in argv)."""
import socket
import sys

port = int(sys.argv[1])
try:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
        connection.sendall(b"escaped the sandbox\n")
        print("connected", flush=True)
except OSError as error:
    print(f"connection refused: {error}", flush=True)
