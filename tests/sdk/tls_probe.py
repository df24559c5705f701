"""Probes the gateway's HTTPS listener. Usage: tls_probe.py PORT CA_PEM LEAF_PEM...
Prints one JSON line: `served` (SHA-256 of the certificate the listener serves to a new connection), `leaves`
(SHA-256 of the first certificate in each LEAF_PEM, to compare) and `status` (GET /healthz over HTTPS,
verified against CA_PEM for the name `localhost`)."""
import hashlib
import json
import ssl
import sys
import urllib.request

port, ca, leaves = int(sys.argv[1]), sys.argv[2], sys.argv[3:]


def digest(pem):
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


served = digest(ssl.get_server_certificate(("127.0.0.1", port)))
files = []
for path in leaves:
    with open(path) as f:
        text = f.read()
    files.append(digest(text[: text.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")] + "\n"))
context = ssl.create_default_context(cafile=ca)
with urllib.request.urlopen(f"https://localhost:{port}/healthz", context=context, timeout=10) as response:
    status = response.status
print(json.dumps({"served": served, "leaves": files, "status": status}))
