#!/usr/bin/python3
"""The lab's certificates: made from catalogue/world.json, and turned into TLSA data.

Usage:
  certs.py generate WORLD_JSON RUNDIR   make every cert of world.json "certs" in RUNDIR/certs
  certs.py expand RUNDIR                stdin -> stdout, {cert:NAME:S:M} -> TLSA association data
  certs.py tlsa RUNDIR NAME S M         print one TLSA association data value

generate writes RUNDIR/certs/NAME.key (EC P-256), NAME.crt and NAME.chain.pem (the certificate,
then its issuers up to the self-signed root). It keeps what exists when the certificate's
specification (and its issuer) did not change, so repeated lab start-ups are fast and the
zones' TLSA records stay valid. Kinds (tests/lab/README.md): "ca" (self-signed CA),
"self-signed" (end entity, for DANE-EE), "leaf" (issued by "issuer", for DANE-TA).
"expired": true gives a validity period that ended in the past.

Every certificate is signed with `openssl ca`, because in OpenSSL 3.0 that is the one command
that takes explicit -startdate/-enddate (x509 -req has no -not_before/-not_after before 3.4),
which an expired certificate needs.

TLSA association data (RFC 6698 section 2.1): selector 0 = the certificate's DER, 1 = its
SubjectPublicKeyInfo DER; matching type 0 = raw, 1 = SHA-256, 2 = SHA-512; lower-case hex.
Standard library plus the openssl command line; errors end the program with status 1.
"""

import base64
import datetime
import hashlib
import json
import pathlib
import re
import ssl
import subprocess
import sys
import tempfile

KINDS = ("ca", "self-signed", "leaf")
# {cert:NAME:S:M}; anything that starts like a placeholder but does not parse is an error.
PLACEHOLDER = re.compile(r"\{cert:([^}:]*):([^}:]*):([^}:]*)\}")
PLACEHOLDER_START = re.compile(r"\{cert:[^}]*\}?")
MATCHING = {0: None, 1: hashlib.sha256, 2: hashlib.sha512}

# openssl ca wants a configuration; everything the lab varies is given on the command line.
CA_CONFIG = """\
[ca]
default_ca = lab
[lab]
database = {dir}/index.txt
new_certs_dir = {dir}
rand_serial = yes
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
[ext]
basicConstraints = critical,{ca}
keyUsage = critical,{usage}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
{more}
"""


class CertError(Exception):
    pass


def openssl(*args, cwd=None):
    p = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        raise CertError(f"openssl {args[0]} failed: {(p.stderr or p.stdout).strip()}")
    return p.stdout


def check_specs(certs):
    """Check world.json "certs"; return the names with issuers before the certs they sign."""
    if not isinstance(certs, dict):
        raise CertError('"certs" must be an object')
    for name, spec in certs.items():
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
            raise CertError(f"cert {name!r}: names may use letters, digits, '.', '_', '-'")
        kind = spec.get("kind")
        if kind not in KINDS:
            raise CertError(f"cert {name}: kind must be one of {KINDS}, not {kind!r}")
        if kind == "leaf":
            issuer = spec.get("issuer")
            if certs.get(issuer, {}).get("kind") != "ca":
                raise CertError(f"cert {name}: issuer {issuer!r} is not a ca of world.json")
        elif "issuer" in spec:
            raise CertError(f"cert {name}: only a leaf has an issuer")
        if kind != "ca" and not spec.get("names"):
            raise CertError(f"cert {name}: an end-entity certificate needs names")
        if kind == "ca" and not (spec.get("subject") or spec.get("names")):
            raise CertError(f"cert {name}: a ca needs a subject")
    # CAs are self-signed, so one level of ordering is enough.
    return sorted(certs, key=lambda n: certs[n]["kind"] != "ca")


def stamp(spec, certdir):
    """What the certificate was made from: its spec and its issuer's certificate."""
    parts = {"spec": spec}
    if spec.get("issuer"):
        parts["issuer"] = hashlib.sha256((certdir / f"{spec['issuer']}.crt").read_bytes()).hexdigest()
    return json.dumps(parts, sort_keys=True) + "\n"


def validity(expired):
    """openssl ca dates (GeneralizedTime). Fresh: yesterday to ten years on (a day of slack for
    clocks). Expired: a year-long period that ended 30 days ago."""
    now = datetime.datetime.now(datetime.timezone.utc)
    if expired:
        start, end = now - datetime.timedelta(days=395), now - datetime.timedelta(days=30)
    else:
        start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=3650)
    return start.strftime("%Y%m%d%H%M%SZ"), end.strftime("%Y%m%d%H%M%SZ")


def make_cert(name, spec, certdir):
    key, crt = certdir / f"{name}.key", certdir / f"{name}.crt"
    kind, names = spec["kind"], spec.get("names") or []
    cn = spec.get("subject") or names[0]
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(key))
    key.chmod(0o600)
    if kind == "ca":
        ca, usage, more = "CA:TRUE", "keyCertSign,cRLSign", ""
    else:
        ca, usage = "CA:FALSE", "digitalSignature"
        more = "extendedKeyUsage = serverAuth\nsubjectAltName = " + ",".join(f"DNS:{n}" for n in names)
    start, end = validity(spec.get("expired", False))
    with tempfile.TemporaryDirectory() as tmp:
        t = pathlib.Path(tmp)
        (t / "index.txt").write_text("")
        (t / "ca.cnf").write_text(CA_CONFIG.format(dir=tmp, ca=ca, usage=usage, more=more))
        openssl("req", "-new", "-key", str(key), "-subj", f"/CN={cn}", "-out", str(t / "req.csr"))
        if kind == "leaf":
            signer = ["-cert", str(certdir / f"{spec['issuer']}.crt"),
                      "-keyfile", str(certdir / f"{spec['issuer']}.key")]
        else:
            signer = ["-selfsign", "-keyfile", str(key)]
        openssl("ca", "-batch", "-notext", "-config", str(t / "ca.cnf"), "-extensions", "ext",
                "-startdate", start, "-enddate", end, *signer,
                "-in", str(t / "req.csr"), "-out", str(crt))


def generate(world_path, rundir):
    try:
        world = json.loads(pathlib.Path(world_path).read_text())
    except (OSError, ValueError) as e:
        raise CertError(f"{world_path}: {e}")
    certs = world.get("certs") or {}
    order = check_specs(certs)
    certdir = pathlib.Path(rundir) / "certs"
    certdir.mkdir(parents=True, exist_ok=True)
    made = 0
    for name in order:
        spec = certs[name]
        files = [certdir / f"{name}{ext}" for ext in (".key", ".crt", ".stamp")]
        want = stamp(spec, certdir)
        if not (all(f.exists() for f in files) and files[2].read_text() == want):
            make_cert(name, spec, certdir)
            files[2].write_text(want)
            made += 1
        chain, n = [], name
        while n:
            chain.append((certdir / f"{n}.crt").read_text())
            n = certs[n].get("issuer")
        (certdir / f"{name}.chain.pem").write_text("".join(chain))
    print(f"certs: {len(order)} certificates in {certdir} ({made} made, {len(order) - made} kept)")


def der_of(crt):
    return ssl.PEM_cert_to_DER_cert(crt.read_text())


def spki_of(crt):
    """The SubjectPublicKeyInfo DER: a PEM "PUBLIC KEY" block is exactly that, base64'd."""
    pem = openssl("x509", "-in", str(crt), "-noout", "-pubkey")
    body = re.search(r"-----BEGIN PUBLIC KEY-----(.*?)-----END PUBLIC KEY-----", pem, re.S)
    return base64.b64decode("".join(body.group(1).split()))


class Tlsa:
    """TLSA association data of the certificates in RUNDIR/certs, computed once per cert."""

    def __init__(self, rundir):
        self.certdir = pathlib.Path(rundir) / "certs"
        self.cache = {}

    def data(self, name, selector, mtype):
        crt = self.certdir / f"{name}.crt"
        if not crt.exists():
            raise CertError(f"unknown certificate {name!r} (no {crt}; is it in world.json \"certs\"?)")
        if (name, selector) not in self.cache:
            self.cache[name, selector] = der_of(crt) if selector == 0 else spki_of(crt)
        raw = self.cache[name, selector]
        return (MATCHING[mtype](raw).digest() if MATCHING[mtype] else raw).hex()

    def placeholder(self, m):
        name, s, mt = m.groups()
        if s not in ("0", "1") or mt not in ("0", "1", "2"):
            raise CertError(f"{m.group(0)}: selector must be 0 or 1, matching type 0, 1 or 2")
        return self.data(name, int(s), int(mt))


def expand(rundir, text):
    tlsa = Tlsa(rundir)
    out = []
    for n, line in enumerate(text.splitlines(keepends=True), 1):
        try:
            line = PLACEHOLDER.sub(tlsa.placeholder, line)
        except CertError as e:
            raise CertError(f"line {n}: {e}")
        bad = PLACEHOLDER_START.search(line)
        if bad:
            raise CertError(f"line {n}: malformed placeholder {bad.group(0)!r} (want {{cert:NAME:S:M}})")
        out.append(line)
    return "".join(out)


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "generate" and len(argv) == 4:
        generate(argv[2], argv[3])
    elif cmd == "expand" and len(argv) == 3:
        sys.stdout.write(expand(argv[2], sys.stdin.read()))
    elif cmd == "tlsa" and len(argv) == 6:
        m = PLACEHOLDER.fullmatch(f"{{cert:{argv[3]}:{argv[4]}:{argv[5]}}}")
        if not m:
            raise CertError(f"bad certificate name, selector or matching type: {argv[3:]}")
        print(Tlsa(argv[2]).placeholder(m))
    else:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except CertError as e:
        print(f"certs.py: {e}", file=sys.stderr)
        sys.exit(1)
