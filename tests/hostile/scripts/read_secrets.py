"""Try to read the server's secrets: /etc/shadow, the database, the secret key, the data directory."""
import os
import sys

for path in ["/etc/shadow", "/etc/passwd", "/root", *sys.argv[1:]]:
    try:
        if os.path.isdir(path):
            print(f"{path}: listing {os.listdir(path)}", flush=True)
            for name in os.listdir(path):
                with open(os.path.join(path, name), "rb") as handle:
                    print(f"{path}/{name}: read {handle.read(4096)!r}", flush=True)
        else:
            with open(path, "rb") as handle:
                print(f"{path}: read {handle.read(4096)!r}", flush=True)
    except OSError as error:
        print(f"{path}: refused: {error}", flush=True)
print(f"visible root: {sorted(os.listdir('/'))}", flush=True)
print(f"environment: {dict(os.environ)}", flush=True)
