"""A real SMTP server for the digest tests: aiosmtpd on 127.0.0.1, with STARTTLS (or TLS from the first
byte) under a certificate the test's own CA signed, AUTH required, and each accepted message kept."""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

USER, PASSWORD = "wall-digests", "smtp password from the environment 7f3a"


def make_ca_and_cert(where: Path) -> tuple[Path, Path, Path]:
    """A CA of the test's own and a certificate for 127.0.0.1 it signed: (ca.pem, cert.pem, key.pem)."""
    where.mkdir(parents=True, exist_ok=True)
    names = ("ca.key", "ca.pem", "key.pem", "cert.csr", "cert.pem")
    ca_key, ca, key, csr, cert = (where / n for n in names)
    ext = where / "ext.cnf"
    ext.write_text("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
                   "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n")
    run = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
           "-subj", "/CN=Digest test CA", "-keyout", str(ca_key), "-out", str(ca),
           "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
    subprocess.run(run, check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(key), "-out", str(csr)], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
                    "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(cert)],
                   check=True, capture_output=True)
    return ca, cert, key


@dataclass
class Mailbox:
    """What the server took in, and how many more DATA commands it refuses (451, try again later)."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: int = 0
    refused: int = 0
    logins: list[str] = field(default_factory=list)
    tls_sessions: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None:
            self.tls_sessions += 1
        if self.refuse > 0:
            self.refuse -= 1
            self.refused += 1
            return "451 4.3.0 Mail server temporarily rejected message"
        assert isinstance(envelope.content, bytes)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        self.arrived.set()
        return "250 OK queued"


def authenticator(box: Mailbox) -> Any:
    def check(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        ok = (isinstance(data, LoginPassword) and data.login == USER.encode()
              and data.password == PASSWORD.encode())
        if ok:
            box.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)  # a failure answered by aiosmtpd: 535
    return check


@asynccontextmanager
async def smtp_server(tmp: Path, *, implicit_tls: bool = False,
                      port: int = 0) -> AsyncIterator[tuple[int, Mailbox, Path]]:
    """Serve on 127.0.0.1 (a free port unless given); yield (port, mailbox, the CA's PEM to trust)."""
    ca, cert, key = await asyncio.to_thread(make_ca_and_cert, tmp)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = Mailbox()
    loop = asyncio.get_running_loop()

    def protocol() -> SMTP:
        # With TLS from the first byte aiosmtpd cannot tell the line is secure: it would never offer AUTH.
        return SMTP(box, hostname="smtp.test", tls_context=None if implicit_tls else context,
                    require_starttls=not implicit_tls, auth_required=True, auth_require_tls=not implicit_tls,
                    authenticator=authenticator(box))

    server = await loop.create_server(protocol, "127.0.0.1", port, ssl=context if implicit_tls else None)
    try:
        yield server.sockets[0].getsockname()[1], box, ca
    finally:
        server.close()
        await server.wait_closed()
