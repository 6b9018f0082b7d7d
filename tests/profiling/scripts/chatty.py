"""Write argv[1] MB to stdout as fast as possible, keep busy a moment, then one line to stderr."""
import sys
import time

# Writing mostly waits on the pipe, which py-spy does not sample, and may be over before its
# first sample. Pure-Python work measured in this process's own CPU time is sampled however
# loaded the machine is: ~20 samples at 100 Hz, a fifth of a second on a quiet machine.
SAMPLED_CPU_S = 0.2

line = "y" * 1023 + "\n"
for _ in range(int(sys.argv[1]) * 1024):
    sys.stdout.write(line)
started = time.process_time()
while time.process_time() - started < SAMPLED_CPU_S:
    sum(range(1000))
sys.stderr.write("chatty finished\n")
