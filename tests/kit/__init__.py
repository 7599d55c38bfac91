"""What the tests that talk to a real IMAP server share, one module per job.

- ``servers``: the test servers (the session Dovecot's protocol, a private Dovecot with
  other options, GreenMail), new users, and logged-in clients;
- ``seeding``: messages to put in (plain, or carrying a fault-test marker) and APPEND;
- ``census``: what is where afterwards, counted by doveadm rather than by the client
  under test (by Message-ID, flags, or marker);
- ``commands``: which commands a client sent, from a proxy's or Dovecot's record;
- ``faults``: ``CuttingProxy``, which records a client and cuts its connection on cue;
- ``engine``: the engine as the CLI builds it: a configuration, a run, the standard
  rules and the mail they know, at fixed moments of the cycle.
"""
