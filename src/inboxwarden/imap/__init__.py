"""The IMAP adapter: sessions, UID sets, folders and error translation."""
