"""A throwaway certificate authority and a server certificate for the local server.

Clients of the local server verify TLS exactly as they would in production (certificate
chain and host name), only against this CA instead of the system store. trustme makes
the certificates when it is importable (the test dependencies have it); otherwise the
``openssl`` command does, so that ``inboxwarden demo`` needs no test dependency.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from inboxwarden.errors import LocalServerError

__all__ = ["SERVER_NAMES", "Certificates", "make_certificates", "make_certificates_with_openssl"]

# Clients connect to "localhost" or to the loopback address itself.
SERVER_NAMES = ("localhost", "127.0.0.1", "::1")

_OPENSSL_CONFIG = """\
[req]
distinguished_name = dn
prompt = no

[dn]
CN = inboxwarden local test CA

[ca_ext]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server_ext]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


@dataclass(frozen=True)
class Certificates:
    """Where the CA certificate, the server's certificate chain and its key were written."""

    ca_cert: Path
    cert_chain: Path
    private_key: Path

    @classmethod
    def in_directory(cls, directory: Path) -> Certificates:
        """Names the three files inside *directory*."""
        return cls(directory / "ca.pem", directory / "server.pem", directory / "server.key")

    def exist(self) -> bool:
        """Tells whether all three files are present, so a restarted server keeps its CA."""
        return all(path.exists() for path in (self.ca_cert, self.cert_chain, self.private_key))


def make_certificates(directory: Path) -> Certificates:
    """Creates a new CA and a server certificate for localhost in *directory*."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = Certificates.in_directory(directory)
    try:
        import trustme
    except ImportError:
        make_certificates_with_openssl(paths)
    else:
        ca = trustme.CA(organization_name="inboxwarden local test CA")
        issued = ca.issue_cert(*SERVER_NAMES)
        ca.cert_pem.write_to_path(str(paths.ca_cert))
        paths.cert_chain.write_bytes(b"".join(pem.bytes() for pem in issued.cert_chain_pems))
        issued.private_key_pem.write_to_path(str(paths.private_key))
    paths.private_key.chmod(0o600)
    return paths


def make_certificates_with_openssl(paths: Certificates) -> None:
    """Creates the CA and the server certificate with the ``openssl`` command.

    The CA's private key is deleted once the server certificate is signed: nothing else
    can ever be issued under this CA, so trusting it trusts only this one server.
    """
    if shutil.which("openssl") is None:
        raise LocalServerError(
            "Neither trustme nor the openssl command is available to make the local "
            "server's TLS certificates; install one (apt-get install openssl)."
        )
    work = paths.cert_chain.parent / "openssl-work"
    work.mkdir(parents=True, exist_ok=True)
    config = work / "openssl.cnf"
    config.write_text(_OPENSSL_CONFIG)
    ca_key = work / "ca.key"
    request = work / "server.csr"
    new_ec_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    try:
        _openssl(
            "req",
            "-x509",
            "-config",
            str(config),
            "-extensions",
            "ca_ext",
            *new_ec_key,
            "-keyout",
            str(ca_key),
            "-out",
            str(paths.ca_cert),
            "-days",
            "3650",
            "-subj",
            "/CN=inboxwarden local test CA",
        )
        _openssl(
            "req",
            "-new",
            "-config",
            str(config),
            *new_ec_key,
            "-keyout",
            str(paths.private_key),
            "-out",
            str(request),
            "-subj",
            "/CN=localhost",
        )
        _openssl(
            "x509",
            "-req",
            "-in",
            str(request),
            "-CA",
            str(paths.ca_cert),
            "-CAkey",
            str(ca_key),
            "-set_serial",
            f"0x{secrets.token_hex(16)}",
            "-days",
            "3650",
            "-extfile",
            str(config),
            "-extensions",
            "server_ext",
            "-out",
            str(paths.cert_chain),
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _openssl(*args: str) -> None:
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LocalServerError(
            f"openssl {args[0]} failed with exit status {result.returncode}: "
            f"{result.stderr.strip()}"
        )
