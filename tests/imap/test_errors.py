"""Every imapclient, imaplib, socket and ssl error becomes one of ours, most specific first."""

from __future__ import annotations

import imaplib
import inspect
import socket
import ssl

import pytest
from imapclient import exceptions as imap_exc

from inboxwarden.errors import (
    AuthenticationFailed,
    ConnectionLost,
    MailboxError,
    MissingCapability,
    ServerError,
)
from inboxwarden.imap.errors import ERROR_MAP, translate, translated


def _imapclient_error_classes():
    return [
        obj
        for _, obj in inspect.getmembers(imap_exc, inspect.isclass)
        if issubclass(obj, BaseException) and obj.__module__ in ("imapclient.exceptions", "imaplib")
    ]


def test_every_imapclient_exception_class_is_mapped():
    classes = _imapclient_error_classes()
    assert len(classes) >= 6
    for cls in classes:
        mapped = translate(cls("x"))
        assert isinstance(mapped, MailboxError), cls


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (imap_exc.LoginError("bad"), AuthenticationFailed),
        (imap_exc.CapabilityError("MOVE"), MissingCapability),
        (imaplib.IMAP4.abort("socket error"), ConnectionLost),
        (imaplib.IMAP4.error("NO"), ServerError),
        (ssl.SSLCertVerificationError("self signed"), ConnectionLost),
        (ssl.SSLError("bad record"), ConnectionLost),
        (TimeoutError("timed out"), ConnectionLost),
        (ConnectionResetError("reset"), ConnectionLost),
        (socket.gaierror("no host"), ConnectionLost),
        (EOFError(), ConnectionLost),
    ],
)
def test_specific_classes_map_to_the_right_error(exc, expected):
    with pytest.raises(expected) as info, translated():
        raise exc
    assert info.value.__cause__ is exc


def test_more_specific_entries_come_first():
    for i, (source, _, _) in enumerate(ERROR_MAP):
        for later, _, _ in ERROR_MAP[i + 1 :]:
            assert not issubclass(later, source) or later is source, (later, source)


def test_programming_errors_are_not_swallowed():
    with pytest.raises(ValueError, match="bug"), translated():
        raise ValueError("bug")
