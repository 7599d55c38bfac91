"""Who has a mailbox, in which mode and language, and who their manager is.

Read from a CSV/YAML file (:mod:`.entries`) or from LDAP / Active Directory
(:mod:`.ldap`, mapped to entries by :mod:`.mapping`); :mod:`.source` picks the one the
configuration names.
"""
