"""Writes a throwaway test CA and two server certificates it issued, for the gateway's own HTTPS listener.
Usage: make_certs.py DIR. Writes DIR/ca.pem, and DIR/first.pem + DIR/first.key, DIR/second.pem + DIR/second.key
(each valid for `localhost` and 127.0.0.1; two, so a test can swap one for the other and see which is served)."""
import os
import sys

import trustme

out = sys.argv[1]
ca = trustme.CA()
ca.cert_pem.write_to_path(os.path.join(out, "ca.pem"))
for name in ("first", "second"):
    leaf = ca.issue_cert("localhost", "127.0.0.1")
    with open(os.path.join(out, f"{name}.pem"), "wb") as f:
        for pem in leaf.cert_chain_pems:
            f.write(pem.bytes())
    leaf.private_key_pem.write_to_path(os.path.join(out, f"{name}.key"))
