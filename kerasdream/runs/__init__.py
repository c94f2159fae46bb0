"""Long runs that write files: layout, planning, one chunk, one driver, records, run lock, signals.

Only the chunk imports Keras: the rest loads with the command line's `--help`.
"""
