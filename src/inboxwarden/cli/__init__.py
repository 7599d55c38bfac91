"""The command line: :mod:`.commands` defines the commands, :mod:`.tables` what they print."""

import gc

# Importing the commands makes some 200,000 objects that live as long as the process.
# None of them is garbage, yet the cyclic collector would traverse them again and again
# while they are made: it waits until they exist, and then they are frozen (gc.freeze)
# so that no later collection looks at them either. A tenth of a second of every start.
_collecting = gc.isenabled()
gc.disable()
try:
    from inboxwarden.cli.commands import main
finally:
    gc.freeze()
    if _collecting:
        gc.enable()

__all__ = ["main"]
