"""Start a child that sleeps for a minute, record its pid in child.pid, and return without waiting."""
import subprocess
import time

child = subprocess.Popen(["sleep", "60"])
with open("child.pid", "w") as pid_file:
    pid_file.write(str(child.pid))
end = time.monotonic() + 0.3
while time.monotonic() < end:
    pass
