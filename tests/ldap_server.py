"""A real OpenLDAP server for the tests: Debian's slapd (packages slapd and ldap-utils) on a free
loopback port, with a generated slapd.conf (mdb backend, dc=example,dc=com) and its people and
groups loaded from LDIF by slapadd before it starts."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
AVAILABLE = Path(SLAPD).exists() and Path(SLAPADD).exists() and Path("/usr/lib/ldap/back_mdb.so").exists()
SUFFIX = "dc=example,dc=com"
ADMIN_DN, ADMIN_PASSWORD = f"cn=admin,{SUFFIX}", "admin-secret"
PEOPLE, GROUPS = f"ou=people,{SUFFIX}", f"ou=groups,{SUFFIX}"
# groupOfNames needs a member: this one stands in, so that a group can lose all its people.
NOBODY = f"cn=nobody,{SUFFIX}"

CONFIG = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile {root}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 10485760
suffix "{suffix}"
rootdn "{admin}"
rootpw {password}
directory {root}/data
access to attrs=userPassword by anonymous auth by self write by * none
access to * by * read
"""


def person(uid: str, password: str, given: str, surname: str) -> str:
    return (
        f"dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {given} {surname}\n"
        f"givenName: {given}\nsn: {surname}\nmail: {uid}@example.com\nuserPassword: {password}\n"
    )


def group(cn: str, *uids: str) -> str:
    members = "".join(f"member: uid={uid},{PEOPLE}\n" for uid in uids)
    return f"dn: cn={cn},{GROUPS}\nobjectClass: groupOfNames\ncn: {cn}\nmember: {NOBODY}\n{members}"


def base_ldif() -> str:
    return (
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n"
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n\n"
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups\n"
    )


@dataclass
class LdapServer:
    uri: str
    process: subprocess.Popen

    def connect(self):
        import ldap

        connection = ldap.initialize(self.uri)
        connection.simple_bind_s(ADMIN_DN, ADMIN_PASSWORD)
        return connection

    def leave(self, group_cn: str, uid: str) -> None:
        import ldap

        member = f"uid={uid},{PEOPLE}".encode()
        self.connect().modify_s(f"cn={group_cn},{GROUPS}", [(ldap.MOD_DELETE, "member", [member])])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(root: Path, ldif: str) -> LdapServer:
    (root / "data").mkdir(parents=True)
    conf = root / "slapd.conf"
    conf.write_text(CONFIG.format(root=root, suffix=SUFFIX, admin=ADMIN_DN, password=ADMIN_PASSWORD))
    (root / "data.ldif").write_text(f"{base_ldif()}\n{ldif}")
    subprocess.run([SLAPADD, "-f", str(conf), "-l", str(root / "data.ldif")], check=True, capture_output=True)
    port = _free_port()
    # -d keeps slapd in the foreground, as our child: stopped with the test, never left behind.
    with (root / "slapd.log").open("wb") as log:
        process = subprocess.Popen(
            [SLAPD, "-f", str(conf), "-h", f"ldap://127.0.0.1:{port}/", "-d", "0"], stdout=log, stderr=log
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"slapd stopped: {(root / 'slapd.log').read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return LdapServer(uri=f"ldap://127.0.0.1:{port}", process=process)
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("slapd did not start within 20 s")


def stop(server: LdapServer) -> None:
    server.process.terminate()
    server.process.wait(timeout=10)
