"""Write argv[1] MB to stdout as fast as possible, and one line to stderr."""
import sys

line = "y" * 1023 + "\n"
for _ in range(int(sys.argv[1]) * 1024):
    sys.stdout.write(line)
sys.stderr.write("chatty finished\n")
