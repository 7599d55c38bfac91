"""The monthly rule as pure functions: the cycle, the rules and what they match, the plan.

Nothing here opens a connection, a file or a database; ``tests/test_code_layout.py``
fails if a module of this package ever imports one that does. The shell around it
(:mod:`inboxwarden.mailbox`) feeds it what the server said and carries out its plan.
"""
