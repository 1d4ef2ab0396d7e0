"""Network helpers for sageflow's tests of AWS_CA_BUNDLE and proxy variables (see
tests/aws_network.rs). Run with the moto venv's python, which has `cryptography`.

  python net_helpers.py tls DIR UPSTREAM_PORT
      Writes a private CA to DIR/cert.pem and a server certificate it signed for
      localhost, 127.0.0.1 and *.sageflow.test, then terminates TLS on 127.0.0.1 and pipes each
      connection to 127.0.0.1:UPSTREAM_PORT in plain text.

  python net_helpers.py proxy LOG
      An HTTP proxy on 127.0.0.1: `CONNECT host:port` tunnels and absolute-form requests
      (`GET http://host:port/...`) go to 127.0.0.1:port whatever the host, so test names
      under .sageflow.test need no DNS. Each request line is appended to LOG.

Each prints one line `READY <port>` once it listens, and serves until standard input
reaches end of file (when the test that started it exits).
"""

import datetime
import ipaddress
import os
import socket
import ssl
import sys
import threading


def pipe(a: socket.socket, b: socket.socket) -> None:
    def one_way(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    t = threading.Thread(target=one_way, args=(b, a), daemon=True)
    t.start()
    one_way(a, b)
    t.join()


def private_ca(directory: str) -> ssl.SSLContext:
    """A private CA (DIR/cert.pem, the bundle a user would pass) and a server certificate
    it signed (DIR/server.pem, DIR/key.pem): the shape of a TLS-inspecting proxy's chain."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sageflow test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.DNSName("*.sageflow.test"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_path = os.path.join(directory, "cert.pem")
    server_path = os.path.join(directory, "server.pem")
    key_path = os.path.join(directory, "key.pem")
    with open(cert_path, "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(server_path, "wb") as f:
        f.write(leaf.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(server_path, key_path)
    return ctx


def serve(handler) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    def accept():
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=handler, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    print(f"READY {listener.getsockname()[1]}", flush=True)
    while sys.stdin.buffer.read(65536):
        pass
    os._exit(0)


def tls(directory: str, upstream: int) -> None:
    ctx = private_ca(directory)

    def handle(conn):
        try:
            secure = ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            # A client that does not trust the certificate hangs up here.
            conn.close()
            return
        plain = socket.create_connection(("127.0.0.1", upstream))
        pipe(secure, plain)

    serve(handle)


def proxy(log: str) -> None:
    lock = threading.Lock()

    def handle(conn):
        buf = b""
        while b"\r\n\r\n" not in buf:
            data = conn.recv(65536)
            if not data:
                conn.close()
                return
            buf += data
        head, _, leftover = buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        request_line = lines[0].decode("latin-1")
        with lock, open(log, "a") as f:
            f.write(request_line + "\n")
        method, target, version = request_line.split(" ", 2)
        if method == "CONNECT":
            port = int(target.rsplit(":", 1)[1])
            upstream = socket.create_connection(("127.0.0.1", port))
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if leftover:
                upstream.sendall(leftover)
            pipe(conn, upstream)
            return
        # Absolute form: http://host:port/path
        rest = target.split("://", 1)[1]
        hostport, _, path = rest.partition("/")
        port = int(hostport.rsplit(":", 1)[1]) if ":" in hostport else 80
        upstream = socket.create_connection(("127.0.0.1", port))
        # One request per connection: the client opens another for the next one.
        kept = [h for h in lines[1:] if not h.lower().startswith(b"connection:")]
        head = [f"{method} /{path} {version}".encode("latin-1")] + kept + [b"Connection: close"]
        upstream.sendall(b"\r\n".join(head) + b"\r\n\r\n" + leftover)
        # The rest of the body and the response flow through as they come.
        pipe(conn, upstream)

    serve(handle)


if __name__ == "__main__":
    if sys.argv[1] == "tls":
        tls(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "proxy":
        proxy(sys.argv[2])
    else:
        sys.exit(f"unknown mode {sys.argv[1]}")
