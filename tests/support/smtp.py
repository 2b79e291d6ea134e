"""A real SMTP server on a loopback port (aiosmtpd), which keeps what it receives and can refuse or stall on cue."""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.ports import free_port


class MailCatcher:
    """Receives mail like any server would. `refuse` answers the next N messages' DATA with 451; `stall` holds
    every conversation at RCPT TO until `release()` (a sender killed there has delivered nothing); `delay` makes
    each conversation wait that many seconds at RCPT TO (a slow server that works)."""

    def __init__(self, hostname: str = '127.0.0.1', *, tls_context: ssl.SSLContext | None = None,
                 logins: set[tuple[str, str]] | None = None) -> None:
        """`tls_context`: offer STARTTLS and refuse mail without it; `logins`: (user, password) pairs it requires."""
        self.hostname = hostname
        self.port = free_port()
        self.tls_context = tls_context
        self.logins = logins
        self.received: list[EmailMessage] = []
        self.refuse = 0
        self.stall = False
        self.delay = 0.0
        self.stalled = threading.Event()  # set when a conversation reaches RCPT TO while stalling
        self._released = threading.Event()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f'smtp://{self.hostname}:{self.port}'

    def start(self) -> MailCatcher:
        secure = {'tls_context': self.tls_context, 'require_starttls': True} if self.tls_context else {}
        if self.logins is not None:
            secure.update(authenticator=self._authenticate, auth_required=True)
        self._controller = Controller(self, hostname=self.hostname, port=self.port, **secure)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller:
            self._released.set()
            self._controller.stop()
            self._controller = None

    def release(self) -> None:
        self.stall = False
        self._released.set()

    def to(self, recipient: str) -> list[EmailMessage]:
        return [message for message in self.received if message['To'] == recipient]

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        return AuthResult(success=(auth_data.login.decode(), auth_data.password.decode()) in self.logins,
                          handled=False)

    # aiosmtpd's handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if self.stall:
            self.stalled.set()
            await asyncio.get_running_loop().run_in_executor(None, self._released.wait)
        await asyncio.sleep(self.delay)
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse:
            self.refuse -= 1
            return '451 4.3.0 Mailbox busy, try again later'
        self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return '250 Message accepted'
