"""Does nothing at all: there is nothing to sample."""
