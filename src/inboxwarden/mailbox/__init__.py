"""The shell that works one mailbox over IMAP: scan the INBOX, carry out the plan, recover.

It does the I/O that :mod:`inboxwarden.policy` decides on: it reads the server's
answers into :class:`~inboxwarden.policy.message.MessageInfo`, asks the policy for a
plan, and moves, copies, flags and journals through :mod:`inboxwarden.imap` and
:mod:`inboxwarden.state`.
"""
