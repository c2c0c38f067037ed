"""A throwaway certificate authority for tests, made with the openssl
command line.

    ca = TestCA("/tmp/x/ca")                     # a new CA (EC P-256)
    cert, key = ca.server("localhost")           # for localhost, 127.0.0.1, ::1
    cert, key = ca.server("wrong", names=["wrong.example.org"])
    other = TestCA("/tmp/x/ca2")                 # an unknown CA
    fingerprint(cert)                            # "AB:CD:..." (SHA-256)

Files are PEM. The CA's certificate is ca.cert (give it to --ca-file).
Everything is made fresh in the folder given; nothing is cached between
runs, and the keys are unencrypted (tests only).
"""
import os
import subprocess


def _run(*args, **kw):
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, **kw)


def fingerprint(cert_path):
    """The SHA-256 fingerprint of a PEM certificate, as AB:CD:..."""
    out = subprocess.run(["openssl", "x509", "-in", cert_path, "-noout",
                          "-fingerprint", "-sha256"], check=True,
                         capture_output=True, text=True).stdout
    return out.strip().split("=", 1)[1].upper()


class TestCA:
    def __init__(self, folder, name="mailvault test CA"):
        self.dir = os.path.abspath(folder)
        os.makedirs(self.dir, exist_ok=True)
        self.key = os.path.join(self.dir, "ca.key")
        self.cert = os.path.join(self.dir, "ca.cert")
        _run("req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", self.key,
             "-out", self.cert, "-days", "30", "-subj", "/CN=" + name,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        self.serial = 1

    def server(self, label, names=("localhost",),
               ips=("127.0.0.1", "::1")):
        """A server certificate and key signed by this CA, valid for the
        DNS names and IP addresses given. Returns (cert_path, key_path)."""
        key = os.path.join(self.dir, label + ".key")
        csr = os.path.join(self.dir, label + ".csr")
        cert = os.path.join(self.dir, label + ".cert")
        ext = os.path.join(self.dir, label + ".ext")
        san = ",".join(["DNS:" + n for n in names] + ["IP:" + i for i in ips])
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\n"
                    "basicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,digitalSignature\n"
                    "extendedKeyUsage=serverAuth\n" % san)
        _run("req", "-new", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
             "-out", csr, "-subj", "/CN=" + (names[0] if names else label))
        self.serial += 1
        _run("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey",
             self.key, "-set_serial", str(self.serial), "-days", "30",
             "-out", cert, "-extfile", ext)
        os.chmod(key, 0o644)    # Dovecot reads it as root; tests only
        return cert, key


if __name__ == "__main__":
    import sys
    import tempfile
    d = tempfile.mkdtemp()
    ca = TestCA(os.path.join(d, "ca"))
    c, k = ca.server("localhost")
    subprocess.run(["openssl", "verify", "-CAfile", ca.cert, c], check=True)
    print(fingerprint(c))
    sys.exit(0)
