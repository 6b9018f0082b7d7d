"""Compiled loops (Cython) for the few steps whose work is one pass per frame entry.

numpy handles most of the profile model in whole-array steps, but some steps are
inherently sequential: walking sorted stacks to lay out a call tree, reading a
samples array digit by digit. In numpy those take several passes over
arrays of millions of entries (and the temporaries' memory); here they are one
loop each. Each module is small, takes and returns plain buffers (numpy arrays,
bytes), and checks every index it reads, because its input comes from uploaded
files.
"""
