"""Round trips of a trivial MCP tool call (`echo`), the median of each:
straight to the server over HTTP (a kept-alive connection, the token from
`credential-oauth headers URL`), through `credential-oauth mcp URL`, and,
when given, through another stdio bridge (mcp-remote). Plain JSON-RPC, no
SDK on the client side. The cases take turns call by call, so a busy
machine slows them alike; the bridge's cost is the difference of the
medians (the median of the per-round differences is printed too).

usage: mcp.py CREDENTIAL_OAUTH URL CALLS [BRIDGE_COMMAND...]
Prints one JSON object of medians in milliseconds.
"""

import http.client
import json
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse

co, url, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
other = sys.argv[4:]
WARM = 30

token = json.loads(subprocess.run([co, "headers", url], check=True, capture_output=True).stdout)[
    "Authorization"
]


def message(i, method, params):
    return {"jsonrpc": "2.0", "id": i, "method": method, "params": params}


INIT = message(
    0,
    "initialize",
    {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
)
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def call(i):
    return message(i, "tools/call", {"name": "echo", "arguments": {"text": str(i)}})


class Direct:
    def __init__(self):
        self.u = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(self.u.hostname, self.u.port)
        self.conn.connect()
        # As reqwest does: no Nagle delay between a request's head and body.
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.headers = {
            "Authorization": token,
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
        }
        answer, data = self.post(INIT)
        self.headers["Mcp-Session-Id"] = answer.getheader("mcp-session-id")
        self.headers["MCP-Protocol-Version"] = json.loads(data)["result"]["protocolVersion"]
        self.post(INITIALIZED)

    def post(self, body):
        self.conn.request("POST", self.u.path, json.dumps(body), self.headers)
        answer = self.conn.getresponse()
        return answer, answer.read()

    def round_trip(self, i):
        _, data = self.post(call(i))
        assert json.loads(data)["id"] == i, data

    def close(self):
        self.conn.request("DELETE", self.u.path, headers=self.headers)
        self.conn.getresponse().read()


class Stdio:
    def __init__(self, command):
        self.command = command
        self.p = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.send(INIT)
        self.answer(0)
        self.send(INITIALIZED)

    def send(self, body):
        self.p.stdin.write((json.dumps(body) + "\n").encode())
        self.p.stdin.flush()

    def answer(self, i):
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise SystemExit(f"{self.command[0]} ended")
            got = json.loads(line)
            if got.get("id") == i:
                return got

    def round_trip(self, i):
        self.send(call(i))
        self.answer(i)

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=30)


cases = {"direct": Direct(), "bridge": Stdio([co, "mcp", url])}
if other:
    cases["other"] = Stdio(other + [url, "--header", f"Authorization:{token}"])
times = {name: [] for name in cases}
names = list(cases)
for i in range(1, WARM + calls + 1):
    names = names[1:] + names[:1]
    for name in names:
        t0 = time.perf_counter()
        cases[name].round_trip(i)
        if i > WARM:
            times[name].append((time.perf_counter() - t0) * 1000)
for case in cases.values():
    case.close()
result = {f"{name}_ms": statistics.median(t) for name, t in times.items()}
result["bridge_adds_ms"] = result["bridge_ms"] - result["direct_ms"]
result["paired_difference_ms"] = statistics.median(
    b - d for b, d in zip(times["bridge"], times["direct"])
)
print(json.dumps(result))
