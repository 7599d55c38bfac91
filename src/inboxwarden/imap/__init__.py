"""The IMAP adapter: `connect` opens and logs in, `session` is the logged-in connection
(what crosses its wall is in `server_facts`), with UID sets, folders, the FETCH readers
and error translation beside them."""
