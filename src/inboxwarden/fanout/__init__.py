"""CC fan-out: personal data mailed to too many people (docs/behaviour.md §6).

`recipients` counts who a message went to (pure), `analysis` decides what is a finding
(pure), and `scan` reads the Sent folder and the INBOX over IMAP to find them.
"""
