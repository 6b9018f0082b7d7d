"""Print what a script sees of how it was started, as JSON, after a little work."""
import json
import os
import sys
import time

end = time.monotonic() + 0.3
while time.monotonic() < end:
    pass
print(json.dumps({
    "argv": sys.argv,
    "name": __name__,
    "file": __file__,
    "path0": sys.path[0],
    "cwd": os.getcwd(),
    "stdin": sys.stdin.read(),
    "main_is_this_module": sys.modules["__main__"].__dict__ is globals(),
    "environ": sorted(os.environ),
}))
