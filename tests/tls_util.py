"""A throw-away PKI for TLS tests: a self-signed CA, a broker certificate for
127.0.0.1 signed by it (PKCS12 keystore for Kafka) and a client certificate
for mutual TLS (PEM files for Python), made with keytool (Java 17) and
openssl (only to take the client's key out of its PKCS12 store: keytool
cannot export private keys)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

STOREPASS = "test-store-pass"


@dataclass(frozen=True)
class Pki:
    ca_pem: Path  # the CA certificate, PEM: kafka_ssl_cafile
    broker_keystore: Path  # PKCS12: broker key + chain
    truststore: Path  # PKCS12: the CA only, for the broker to check client certificates
    client_cert: Path  # PEM: kafka_ssl_certfile
    client_key: Path  # PEM, unencrypted: kafka_ssl_keyfile
    password: str = STOREPASS


def tools_available() -> str | None:
    """None if keytool and openssl are there, else what is missing."""
    missing = [tool for tool in ("keytool", "openssl") if shutil.which(tool) is None]
    return f"{' and '.join(missing)} not on PATH" if missing else None


def _run(*cmd: str, cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def _keytool(*args: str, cwd: Path) -> None:
    _run("keytool", "-J-Xmx64m", "-J-XX:TieredStopAtLevel=1", *args, cwd=cwd)


def make_pki(directory: Path) -> Pki:
    """Create the CA, broker and client material in `directory` (about ten JVM starts)."""
    directory.mkdir(parents=True, exist_ok=True)
    store = ("-storetype", "PKCS12", "-storepass", STOREPASS)
    key = ("-keyalg", "RSA", "-keysize", "2048", "-validity", "2")

    def signed_keypair(alias: str, dname: str, p12: str, *ext: str) -> None:
        _keytool("-genkeypair", "-alias", alias, "-dname", dname, *key, "-keystore", p12, *store, cwd=directory)
        _keytool("-certreq", "-alias", alias, "-keystore", p12, *store, "-file", f"{alias}.csr", cwd=directory)
        _keytool("-gencert", "-alias", "ca", "-keystore", "ca.p12", *store, "-infile", f"{alias}.csr",
                 "-outfile", f"{alias}.pem", "-rfc", "-validity", "2", *ext, cwd=directory)
        _keytool("-importcert", "-alias", "ca", "-file", "ca.pem", "-keystore", p12, *store, "-noprompt",
                 cwd=directory)
        _keytool("-importcert", "-alias", alias, "-file", f"{alias}.pem", "-keystore", p12, *store, cwd=directory)

    _keytool("-genkeypair", "-alias", "ca", "-dname", "CN=newsmon test CA", *key, "-ext", "bc:c",
             "-keystore", "ca.p12", *store, cwd=directory)
    _keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", "ca.p12", *store, "-file", "ca.pem", cwd=directory)
    _keytool("-importcert", "-alias", "ca", "-file", "ca.pem", "-keystore", "truststore.p12", *store, "-noprompt",
             cwd=directory)
    # the client checks the host name: 127.0.0.1 is what the broker advertises
    signed_keypair("broker", "CN=localhost", "broker.p12", "-ext", "SAN=IP:127.0.0.1,DNS:localhost")
    signed_keypair("client", "CN=newsmon-client", "client.p12")
    _run("openssl", "pkcs12", "-in", "client.p12", "-passin", f"pass:{STOREPASS}", "-nocerts", "-nodes",
         "-out", "client.key", cwd=directory)
    return Pki(ca_pem=directory / "ca.pem", broker_keystore=directory / "broker.p12",
                   truststore=directory / "truststore.p12", client_cert=directory / "client.pem",
                   client_key=directory / "client.key")
