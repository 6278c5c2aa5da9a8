"""An MCP server built with the official Python SDK (MCPServer, Streamable
HTTP), protected by bearer tokens from the test authorization server: each
token is checked by introspection (RFC 7662), and must be bound to this
server's URL (RFC 8707, `aud`). The tool `admin_op` wants the scope
`admin` on top: without it the answer is 403 insufficient_scope.

usage: server.py ISSUER INTROSPECTION_CLIENT:SECRET [--json] [--cache-introspection]
Prints `url: http://127.0.0.1:PORT/mcp` once it listens.
"""

import asyncio
import base64
import json
import socket
import sys
import urllib.parse
import urllib.request

import uvicorn
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer

issuer, client = sys.argv[1], sys.argv[2]
json_response = "--json" in sys.argv[3:]

sock = socket.socket()
sock.bind(("127.0.0.1", 0))
# Listening before the URL is printed: a request that comes before uvicorn
# serves waits in the backlog instead of being refused.
sock.listen(128)
port = sock.getsockname()[1]
url = f"http://127.0.0.1:{port}/mcp"


def introspect(token):
    body = urllib.parse.urlencode({"token": token}).encode()
    request = urllib.request.Request(f"{issuer}/introspect", data=body)
    request.add_header("Authorization", "Basic " + base64.b64encode(client.encode()).decode())
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


# --cache-introspection (the benchmark only): each token is asked about
# once, so a tool call costs the server no call of its own.
cache = {} if "--cache-introspection" in sys.argv[3:] else None


class Introspection:
    async def verify_token(self, token):
        if cache is not None and token in cache:
            return cache[token]
        info = await asyncio.to_thread(introspect, token)
        checked = None
        if info.get("active"):
            checked = AccessToken(
                token=token,
                client_id=info.get("client_id", ""),
                scopes=(info.get("scope") or "").split(),
                expires_at=info.get("exp"),
                resource=info.get("aud"),
                subject=info.get("sub"),
            )
        if cache is not None:
            cache[token] = checked
        return checked


server = MCPServer(
    "credential-oauth-test",
    log_level="WARNING",
    token_verifier=Introspection(),
    auth=AuthSettings(
        issuer_url=issuer,
        resource_server_url=url,
        required_scopes=["tools"],
        validate_token_resource=True,
    ),
)


@server.tool()
def echo(text: str) -> str:
    """Says it back."""
    return text


@server.tool()
async def slow(seconds: float) -> str:
    """Answers after a while."""
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


@server.tool()
def admin_op() -> str:
    """Wants the admin scope."""
    return "admin done"


app = server.streamable_http_app(json_response=json_response)


async def step_up(scope, receive, send):
    """403 insufficient_scope for a call of admin_op with a token lacking `admin`."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return await app(scope, receive, send)
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    replayed = False

    async def replay():
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    try:
        call = json.loads(body)
    except ValueError:
        call = None
    wants_admin = (
        isinstance(call, dict)
        and call.get("method") == "tools/call"
        and (call.get("params") or {}).get("name") == "admin_op"
    )
    headers = dict(scope["headers"])
    bearer = headers.get(b"authorization", b"").decode()
    if wants_admin and bearer.lower().startswith("bearer "):
        info = await asyncio.to_thread(introspect, bearer[7:])
        if info.get("active") and "admin" not in (info.get("scope") or "").split():
            challenge = (
                'Bearer error="insufficient_scope", scope="tools admin", '
                f'resource_metadata="http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp"'
            )
            await send({
                "type": "http.response.start",
                "status": 403,
                "headers": [(b"content-type", b"application/json"), (b"www-authenticate", challenge.encode())],
            })
            await send({"type": "http.response.body", "body": b'{"error":"insufficient_scope"}'})
            return
    return await app(scope, replay, send)


print(f"url: {url}", flush=True)
config = uvicorn.Config(step_up, log_level="warning", lifespan="on")
uvicorn.Server(config).run(sockets=[sock])
