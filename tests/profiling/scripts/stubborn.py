"""Write our pid to stubborn.pid, ignore SIGINT and SIGTERM, and burn CPU forever."""
import os
import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
with open("stubborn.pid", "w") as pid_file:
    pid_file.write(str(os.getpid()))
while True:
    sum(range(1000))
