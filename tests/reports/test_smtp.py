"""Sending through a real SMTP server: plain to loopback, STARTTLS, implicit TLS, AUTH."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from inboxwarden.config import SmtpSettings
from inboxwarden.errors import ConfigError, DeliveryError
from inboxwarden.reports.mime import build_message
from inboxwarden.reports.smtp import SmtpEndpoint, send
from inboxwarden.reports.templating import Rendered
from tests.reports.smtpkit import PASSWORD, USER, free_port, smtp_server

NOW = datetime(2026, 11, 16, 7, 0, tzinfo=ZoneInfo("Europe/Stockholm"))


def message(to="maria@exempel.se"):
    return build_message(
        Rendered("Veckorapport v. 46", "Hej\n", "<p>Hej</p>\n"),
        sender="InboxWarden <inboxwarden@exempel.se>",
        to=to,
        now=NOW,
        language="sv",
    )


def endpoint(server, security, **options):
    return SmtpEndpoint(
        server.host, server.port, security, ca_file=server.ca_file, timeout=10, **options
    )


def test_plain_text_to_a_relay_on_loopback(tmp_path):
    with smtp_server("plain", tmp_path) as server:
        send(endpoint(server, "plain"), message())
    [got] = server.received
    assert (got.mail_from, got.rcpt_tos, got.tls) == (
        "inboxwarden@exempel.se",
        ["maria@exempel.se"],
        False,
    )
    assert got.message["Subject"] == "Veckorapport v. 46"


def test_starttls_with_a_verified_certificate_and_auth(tmp_path):
    with smtp_server("starttls", tmp_path, auth=True) as server:
        send(endpoint(server, "starttls", username=USER, password=SecretStr(PASSWORD)), message())
    [got] = server.received
    assert got.tls and got.authenticated
    assert got.message.get_body(("html",)).get_content().strip() == "<p>Hej</p>"


def test_implicit_tls_with_auth(tmp_path):
    with smtp_server("tls", tmp_path, auth=True) as server:
        send(endpoint(server, "tls", username=USER, password=SecretStr(PASSWORD)), message())
    [got] = server.received
    assert got.tls and got.authenticated


def test_a_wrong_password_is_a_delivery_error_without_the_secret(tmp_path):
    with (
        smtp_server("starttls", tmp_path, auth=True) as server,
        pytest.raises(DeliveryError, match="refused the login") as caught,
    ):
        send(
            endpoint(server, "starttls", username=USER, password=SecretStr("wrong-one")),
            message(),
        )
    assert "wrong-one" not in str(caught.value)
    assert server.received == []


def test_a_certificate_from_an_unknown_ca_is_refused(tmp_path):
    with smtp_server("starttls", tmp_path) as server:
        untrusting = SmtpEndpoint(server.host, server.port, "starttls", timeout=10)
        with pytest.raises(DeliveryError, match="certificate could not be verified"):
            send(untrusting, message())
    assert server.received == []


def test_a_login_is_never_skipped_when_the_relay_offers_auth_only_under_tls(tmp_path):
    with (
        smtp_server("starttls", tmp_path, auth=True) as server,
        pytest.raises(DeliveryError, match="lacks a needed extension"),
    ):
        send(endpoint(server, "plain", username=USER, password=SecretStr(PASSWORD)), message())
    assert server.received == []


def test_a_relay_that_is_not_there_is_a_delivery_error():
    with pytest.raises(DeliveryError, match="cannot reach the SMTP relay"):
        send(SmtpEndpoint("127.0.0.1", free_port(), "plain", timeout=5), message())


def test_plain_text_to_a_remote_relay_is_refused_before_connecting():
    with pytest.raises(ConfigError, match="only allowed to a relay on loopback"):
        send(SmtpEndpoint("smtp.exempel.se", 25, "plain"), message())


def test_the_relay_password_comes_from_its_file(tmp_path):
    secret = tmp_path / "smtp.secret"
    secret.write_text("from-the-file\n")
    settings = SmtpSettings(
        host="127.0.0.1", port=25, security="plain", username=USER, password_file=secret
    )
    found = SmtpEndpoint.from_settings(settings)
    assert found.password is not None and found.password.get_secret_value() == "from-the-file"
    assert "from-the-file" not in repr(found)
    with pytest.raises(ConfigError, match=r"smtp\.password_file"):
        SmtpEndpoint.from_settings(SmtpSettings(host="127.0.0.1", username=USER))
