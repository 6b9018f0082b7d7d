"""Work a little, then sys.exit(argv[1]) - as an int when it is one, else as a message."""
import sys
import time

end = time.monotonic() + 0.3
while time.monotonic() < end:
    pass
code = sys.argv[1]
sys.exit(int(code) if code.lstrip("-").isdigit() else code)
