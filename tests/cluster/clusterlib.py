"""What every tier of the cluster test shares: HTTP to the tokend nodes (stdlib only), TAP
lines, a session type and the few Rocket.Chat calls the tiers are built from.

A request never raises: a connection refused, reset or timed out comes back as status 0,
so a tier can count failures per node instead of dying on the first one."""

import base64
import hashlib
import hmac
import json
import struct
import sys
import threading
import time
import urllib.error
import urllib.request

# Longer than any server-side timeout the tiers use (a node abandons a hung primary after
# TOKEND_DATABASE_TIMEOUT_SECS per host), so a slow answer is seen as an answer.
REQUEST_TIMEOUT = 60.0


class Tap:
    """TAP-style `ok - …` / `not ok - …` lines (as tests/packaging/lib.sh prints them)."""

    def __init__(self):
        self.failed = 0
        self.lock = threading.Lock()

    def check(self, passed, name):
        with self.lock:
            if not passed:
                self.failed += 1
            print(("ok - " if passed else "not ok - ") + name, flush=True)
        return passed

    def note(self, text):
        print("# " + text, flush=True)


class Session:
    def __init__(self, user_id, token, username=None):
        self.user_id = user_id
        self.token = token
        self.username = username

    def headers(self):
        return {"X-User-Id": self.user_id, "X-Auth-Token": self.token}


def request(base, method, path, body=None, session=None, headers=None, timeout=REQUEST_TIMEOUT):
    """(status, parsed JSON or text); status 0 when no HTTP answer came back."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    for name, value in {**(session.headers() if session else {}), **(headers or {})}.items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, _parse(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, _parse(err.read())
    except (OSError, ValueError) as err:  # refused, reset, timed out, truncated
        return 0, str(err)


def _parse(raw):
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def post(base, path, body, session=None, headers=None):
    return request(base, "POST", path, body, session, headers)


def get(base, path, session=None):
    return request(base, "GET", path, None, session)


def login(base, username, password, code=None):
    """(status, body, Session or None)."""
    body = {"user": username, "password": password}
    if code is not None:
        body["code"] = code
    status, answer = post(base, "/api/v1/login", body)
    if status == 200:
        data = answer["data"]
        return status, answer, Session(data["userId"], data["authToken"], username)
    return status, answer, None


def me_status(base, session):
    return get(base, "/api/v1/me", session)[0]


def error_of(body):
    """The Rocket.Chat error name of an answer: `errorType` (REST) or `error` (login)."""
    if isinstance(body, dict):
        return body.get("errorType") or body.get("error")
    return body


def gate_headers(password):
    """The password method of the 2FA gate: the hex SHA-256 of the password."""
    return {"x-2fa-code": hashlib.sha256(password.encode()).hexdigest(), "x-2fa-method": "password"}


def gated_post(base, path, body, session, password):
    """A 2FA-gated route: accounts younger than the remember window pass without a code;
    should the gate still ask, the request is repeated with the password method."""
    status, answer = post(base, path, body, session)
    if status == 400 and error_of(answer) == "totp-required":
        status, answer = post(base, path, body, session, gate_headers(password))
    return status, answer


def create_user(base, admin, username, password, roles=("user",), verified=False):
    body = {"username": username, "password": password, "name": username,
            "email": username + "@example.com", "roles": list(roles), "verified": verified}
    status, answer = post(base, "/api/v1/users.create", body, admin)
    if status != 200:
        raise RuntimeError("users.create %s: %s %s" % (username, status, answer))
    return answer["user"]["_id"]


def must_login(base, username, password):
    status, answer, session = login(base, username, password)
    if session is None:
        raise RuntimeError("login of %s on %s: %s %s" % (username, base, status, answer))
    return session


def totp_code(secret, offset_steps=0):
    """The code an authenticator app shows for the base32 `secret` (SHA-1, 6 digits, 30 s),
    `offset_steps` steps from now."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    step = int(time.time()) // 30 + offset_steps
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    start = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[start:start + 4])[0] & 0x7FFFFFFF
    return "%06d" % (value % 1_000_000)


def all_at_once(calls):
    """Runs every zero-argument callable in its own thread, released together by a barrier;
    returns their results in the order given."""
    results = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def die(message):
    print("Bail out! " + message, flush=True)
    sys.exit(1)
