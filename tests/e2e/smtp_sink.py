"""smtp_sink.py — a real SMTP server on loopback for tests/e2e/digestmail.sh (Debian's
python3-aiosmtpd).

    smtp_sink.py OUT_DIR PORT_FILE [--refuse N] [--user U --password P]
                 [--tls starttls|smtps --cert CERT.pem --key KEY.pem]

Listens on 127.0.0.1 (a free port, written to PORT_FILE once listening). Every DATA
command is counted in OUT_DIR/tries (one line each); the first N are answered
"451 4.3.0 try again later" (a relay that refuses for now); the others are accepted and
the message is stored as OUT_DIR/msg-K.eml (its envelope recipients in msg-K.rcpt).
With --user/--password the client must authenticate (AUTH PLAIN or LOGIN) before MAIL.
With --tls starttls the client must say STARTTLS first; with --tls smtps the connection
is TLS from the start (both with CERT/KEY).
Stops on SIGTERM.
"""
import asyncio
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult


class Sink:
    def __init__(self, out, refuse):
        self.out = out
        self.refuse = refuse
        self.tries = 0

    async def handle_DATA(self, server, session, envelope):
        self.tries += 1
        with open(os.path.join(self.out, "tries"), "a") as f:
            f.write("%d\n" % self.tries)
        if self.tries <= self.refuse:
            return "451 4.3.0 try again later"
        n = len([x for x in os.listdir(self.out) if x.endswith(".eml")]) + 1
        with open(os.path.join(self.out, "msg-%d.rcpt" % n), "w") as f:
            f.write("\n".join(envelope.rcpt_tos) + "\n")
        with open(os.path.join(self.out, "msg-%d.eml" % n), "wb") as f:
            f.write(envelope.original_content)
        return "250 2.0.0 OK"


def main():
    out, port_file = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    opt = dict(zip(args[::2], args[1::2]))
    refuse = int(opt.get("--refuse", "0"))
    user, password = opt.get("--user"), opt.get("--password")
    sink = Sink(out, refuse)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok)

    tls = opt.get("--tls")
    ctx = None
    if tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(opt["--cert"], opt["--key"])

    def factory():
        kw = {}
        if user:
            kw.update(authenticator=authenticator, auth_required=True, auth_require_tls=False)
        if tls == "starttls":
            kw.update(tls_context=ctx, require_starttls=True)
        return SMTP(sink, hostname="sink.test", **kw)

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(
        factory, "127.0.0.1", 0, ssl=ctx if tls == "smtps" else None))
    port = server.sockets[0].getsockname()[1]
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, port_file)
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.run_forever()
    server.close()


if __name__ == "__main__":
    main()
