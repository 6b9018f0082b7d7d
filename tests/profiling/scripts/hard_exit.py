"""Work a little, then leave without any Python clean-up."""
import os
import time

end = time.monotonic() + 0.3
while time.monotonic() < end:
    pass
os._exit(7)
