"""A real IMAP server for the tests: Debian's dovecot on 127.0.0.1, with its own configuration in a temp dir.

One user (passwd-file, plain password) whose Maildir starts empty; messages are
put in with IMAP APPEND, as a mail server delivers them. Nothing outside the
temp dir is touched: dovecot gets its own base, state and log directories. As
root it runs its login and internal processes as the Debian package's users
(``dovenull``, ``dovecot``) and the mailbox as ``nobody`` (dovecot never
runs a mail process as root); as another user, everything as that user.
"""

import getpass
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "dte"
PASSWORD = "inbox-password"


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _user_exists(name):
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


class DovecotServer:
    """``start()`` it, ``append(message)`` mail to its INBOX, ``stop()`` it."""

    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix="l10n_cl_dte_imap_")
        self.port = _free_port()
        self.process = None

    def _configuration(self):
        me = getpass.getuser()
        running_as_root = os.geteuid() == 0
        login_user = "dovenull" if running_as_root and _user_exists("dovenull") else me
        internal_user = "dovecot" if running_as_root and _user_exists("dovecot") else me
        uid, gid = self._mail_ids()
        directory = self.directory
        return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {directory}/run
state_dir = {directory}/state
log_path = {directory}/dovecot.log
info_log_path = {directory}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = 0
mail_location = maildir:{directory}/mailboxes/%u/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {directory}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={directory}/mailboxes/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""

    @staticmethod
    def _mail_ids():
        if os.geteuid() != 0:
            return os.getuid(), os.getgid()
        nobody = pwd.getpwnam("nobody")
        return nobody.pw_uid, nobody.pw_gid

    def start(self, timeout=20):
        if not os.path.exists(DOVECOT):
            raise RuntimeError("dovecot is not installed (Debian's dovecot-imapd; .ci/run installs it)")
        for sub in ("run", "state", "mailboxes"):
            os.makedirs(os.path.join(self.directory, sub), exist_ok=True)
        os.chmod(self.directory, 0o755)
        uid, gid = self._mail_ids()
        os.chown(os.path.join(self.directory, "mailboxes"), uid, gid)
        with open(os.path.join(self.directory, "passwd"), "w") as passwd:
            passwd.write(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        config = os.path.join(self.directory, "dovecot.conf")
        with open(config, "w") as handle:
            handle.write(self._configuration())
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", config], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot stopped at start: {self.process.stderr.read().decode()[-2000:]} "
                                   f"{self.log()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"dovecot did not listen on 127.0.0.1:{self.port}: {self.log()[-2000:]}")

    def log(self):
        try:
            with open(os.path.join(self.directory, "dovecot.log")) as handle:
                return handle.read()
        except OSError:
            return ""

    def append(self, message):
        """Deliver ``message`` (bytes) to the user's INBOX, unread."""
        with imaplib.IMAP4("127.0.0.1", self.port) as client:
            client.login(USER, PASSWORD)
            status, _data = client.append("INBOX", None, None, message)
            if status != "OK":
                raise RuntimeError(f"IMAP APPEND answered {status}")

    def unseen(self):
        with imaplib.IMAP4("127.0.0.1", self.port) as client:
            client.login(USER, PASSWORD)
            client.select("INBOX")
            _status, data = client.search(None, "(UNSEEN)")
            return len(data[0].split())

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)
