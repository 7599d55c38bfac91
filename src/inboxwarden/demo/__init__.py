"""``inboxwarden demo``: the whole monthly rule on a private Dovecot with sample mail.

A product command, kept apart from the product's modules: the local Dovecot
(:mod:`.localserver`, also used by the tests and benchmarks), the sample mail
(:mod:`.mail`), sample digests and reports (:mod:`.samples`, :mod:`.outputs`).
"""
