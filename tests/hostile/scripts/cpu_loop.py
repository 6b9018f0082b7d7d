"""Spin the CPU with no end."""
def spin():
    total = 0
    while True:
        total += 1


spin()
