"""A minimal TLS upstream for tests: serves an Anthropic-shaped JSON reply to any POST over HTTPS with a
certificate for `localhost` from a throwaway CA (trustme). Prints `PORT <n>` once listening; records the
SNI server name it saw in each reply's `sni` field. Usage: tls_upstream.py CA_PEM_OUT."""
import http.server
import json
import ssl
import sys

import trustme

ca = trustme.CA()
ca.cert_pem.write_to_path(sys.argv[1])
cert = ca.issue_cert("localhost")
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
cert.configure_cert(context)
seen = {"sni": None}


def remember_sni(sock, name, ctx):
    seen["sni"] = name


context.sni_callback = remember_sni


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        reply = json.dumps({"id": "msg_tls", "type": "message", "role": "assistant", "model": body.get("model"),
                            "content": [{"type": "text", "text": "over tls"}], "stop_reason": "end_turn",
                            "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 2},
                            "sni": seen["sni"], "host": self.headers.get("host")}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.socket = context.wrap_socket(server.socket, server_side=True)
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
