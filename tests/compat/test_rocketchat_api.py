"""tokend against a real Rocket.Chat client: the PyPI package ``rocketchat_API``.

The module starts the built binary (``TOKEND_BIN``, default ``target/debug/tokend``) on a
free loopback port with a fresh data directory and a known admin password, then drives it
exactly as a user of the library would.

What the library does (rocketchat_API 3.7.x, read from its source):
- ``RocketChat(user, password, server_url=...)`` logs in on construction with
  ``POST /api/v1/login`` and a JSON body ``{"username": ..., "password": ...}`` (``"user"``
  instead of ``"username"`` when the name looks like an e-mail address). It requires
  HTTP 200 with ``"status": "success"`` and reads ``data.authToken``/``data.userId``; a 401
  raises ``RocketAuthenticationException``, anything else ``RocketConnectionException``.
- Every other call returns the decoded JSON body (a dict), not a ``requests.Response``.
  A status outside 200..399 raises ``RocketApiException`` when the body is JSON with
  ``"success": false``, else ``RocketBadStatusCodeException``.
- POST bodies are JSON; GET parameters are appended to the URL unencoded.
- ``users_list()`` is paginated: it returns an iterator of user objects, fetching
  ``users.list?offset=N&count=50`` pages until a short page.

Run: ``pytest tests/compat`` (after ``cargo build``).
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests
from rocketchat_API.APIExceptions.RocketExceptions import (
    RocketApiException,
    RocketAuthenticationException,
)
from rocketchat_API.rocketchat import RocketChat

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "compat-admin-" + uuid.uuid4().hex[:12]


def _binary() -> Path:
    path = Path(os.environ.get("TOKEND_BIN", "target/debug/tokend"))
    if not path.is_absolute():
        path = REPO_ROOT / path
    if not path.is_file():
        pytest.fail(f"tokend binary not found at {path}: run `cargo build` or set TOKEND_BIN")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, url: str, env: dict, binary: Path, log_path: Path):
        self.url = url
        self.env = env
        self.binary = binary
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def server(request):
    binary = _binary()
    data_dir = Path(tempfile.mkdtemp(prefix="tokend-compat-"))
    port = _free_port()
    env = {
        k: v for k, v in os.environ.items() if not (k.startswith("TOKEND_") or k == "MAX_RESUME_LOGIN_TOKENS")
    }
    env.update(
        TOKEND_DATA_DIR=str(data_dir / "data"),
        TOKEND_BIND=f"127.0.0.1:{port}",
        # The module logs in more than 10 times a minute from one address, which Rocket.Chat's
        # default limiter refuses too; tests/api/rate_limit.rs covers the limiter itself.
        TOKEND_RATE_LIMIT="off",
        TOKEND_ADMIN_USERNAME="admin",
        TOKEND_ADMIN_PASSWORD=ADMIN_PASSWORD,
        TOKEND_SITE_URL=f"http://127.0.0.1:{port}",
        # Issue 16's self-service routes are off by default; the module drives them.
        TOKEND_REGISTRATION="on",
        TOKEND_DELETE_OWN_ACCOUNT="on",
        # users.info?email= exists from Rocket.Chat 8.4 (the library documents the same).
        TOKEND_RC_VERSION="8.4.0",
    )
    log_path = data_dir / "server.log"
    log_file = open(log_path, "wb")
    proc = subprocess.Popen(
        [str(binary)], env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT
    )

    def stop():
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log_file.close()
        shutil.rmtree(data_dir, ignore_errors=True)

    request.addfinalizer(stop)

    deadline = time.monotonic() + 30
    while True:
        check = subprocess.run(
            [str(binary), "healthcheck"], env=env, stdin=subprocess.DEVNULL, capture_output=True
        )
        if check.returncode == 0:
            break
        if proc.poll() is not None:
            pytest.fail(f"tokend exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
        if time.monotonic() > deadline:
            pytest.fail(f"tokend did not pass its healthcheck in 30 s:\n{log_path.read_text(errors='replace')}")
        time.sleep(0.1)
    return Server(f"http://127.0.0.1:{port}", env, binary, log_path)


@pytest.fixture
def admin(server):
    rocket = RocketChat("admin", ADMIN_PASSWORD, server_url=server.url, timeout=10)
    yield rocket
    rocket.session.close()


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def create_user(admin: RocketChat, **extra) -> tuple[dict, str]:
    username = unique("compat")
    password = "pw-" + uuid.uuid4().hex
    created = admin.users_create(
        email=f"{username}@example.com",
        name=f"Compat {username}",
        password=password,
        username=username,
        **extra,
    )
    assert created["success"] is True, created
    return created["user"], password


def test_info_reports_a_version(server):
    rocket = RocketChat(server_url=server.url)
    info = rocket.info()
    assert info["success"] is True
    assert isinstance(info["version"], str) and info["version"].count(".") >= 1


def test_construction_logs_in_and_me_describes_the_admin(admin):
    user_id = admin.headers["X-User-Id"]
    assert admin.headers["X-Auth-Token"]
    me = admin.me()
    assert me["success"] is True
    assert me["_id"] == user_id
    assert me["username"] == "admin"
    assert me["active"] is True
    assert "admin" in me["roles"]
    # Rocket.Chat shows only that a password exists, never the hash
    assert me["services"]["password"] == {"exists": True}
    assert "$2" not in json.dumps(me)


def test_login_returns_the_documented_envelope(server):
    rocket = RocketChat(server_url=server.url)
    answer = rocket.login("admin", ADMIN_PASSWORD)
    assert answer["status"] == "success"
    data = answer["data"]
    assert data["userId"] == rocket.headers["X-User-Id"]
    assert data["authToken"] == rocket.headers["X-Auth-Token"]
    assert data["me"]["username"] == "admin"


def test_wrong_password_raises_authentication_exception(server):
    with pytest.raises(RocketAuthenticationException):
        RocketChat("admin", "not-the-password", server_url=server.url)
    with pytest.raises(RocketAuthenticationException):
        RocketChat(unique("nobody"), "not-the-password", server_url=server.url)


def test_token_construction_without_login(server, admin):
    rocket = RocketChat(
        auth_token=admin.headers["X-Auth-Token"],
        user_id=admin.headers["X-User-Id"],
        server_url=server.url,
    )
    assert rocket.me()["username"] == "admin"


def test_user_lifecycle(server, admin):
    # users.create
    user, password = create_user(admin)
    user_id = user["_id"]
    assert user["username"].startswith("compat")
    assert user["active"] is True
    assert user["roles"] == ["user"]
    assert user["emails"][0]["address"] == f"{user['username']}@example.com"

    # users.info by id (and by username)
    info = admin.users_info(user_id=user_id)
    assert info["success"] is True
    assert info["user"]["_id"] == user_id
    assert info["user"]["username"] == user["username"]
    assert info["user"]["name"] == user["name"]
    by_name = admin.users_info(username=user["username"])
    assert by_name["user"]["_id"] == user_id

    # users.list, through the library's paginated iterator
    listed = list(admin.users_list())
    usernames = [u["username"] for u in listed]
    assert "admin" in usernames and user["username"] in usernames
    assert len(usernames) == len(set(usernames))
    page = list(admin.users_list(count=1, max_count=2))
    assert len(page) == 2

    # a second client logs in as the new user
    other = RocketChat(user["username"], password, server_url=server.url)
    me = other.me()
    assert me["_id"] == user_id
    assert me["username"] == user["username"]
    assert "admin" not in me["roles"]

    # users.update: name and password
    new_password = "pw2-" + uuid.uuid4().hex
    updated = admin.users_update(user_id, name="Renamed Compat", password=new_password)
    assert updated["success"] is True
    assert updated["user"]["_id"] == user_id
    assert updated["user"]["name"] == "Renamed Compat"
    assert admin.users_info(user_id=user_id)["user"]["name"] == "Renamed Compat"
    with pytest.raises(RocketAuthenticationException):
        RocketChat(user["username"], password, server_url=server.url)
    other = RocketChat(user["username"], new_password, server_url=server.url)
    assert other.me()["name"] == "Renamed Compat"

    # the user edits their own profile
    own = other.users_update(user_id, nickname="compat-nick")
    assert own["success"] is True and own["user"]["nickname"] == "compat-nick"

    # a non-admin may not create users
    with pytest.raises(RocketApiException) as refused:
        create_user(other)
    assert refused.value.status_code in (400, 403)
    assert refused.value.response_json["success"] is False

    # users.setActiveStatus: deactivation revokes the user's tokens and blocks login
    deactivated = admin.users_set_active_status(user_id, False)
    assert deactivated == {"user": {"_id": user_id, "active": False}, "success": True}
    with pytest.raises(RocketApiException) as revoked:
        other.me()
    assert revoked.value.status_code == 401
    # 401 error-user-is-not-activated: the library turns every login 401 into this exception
    with pytest.raises(RocketAuthenticationException):
        RocketChat(user["username"], new_password, server_url=server.url)
    reactivated = admin.users_set_active_status(user_id, True)
    assert reactivated["user"]["active"] is True
    other = RocketChat(user["username"], new_password, server_url=server.url)
    assert other.me()["active"] is True

    # users.delete
    deleted = admin.users_delete(user_id)
    assert deleted == {"success": True}
    with pytest.raises(RocketApiException) as gone:
        admin.users_info(user_id=user_id)
    assert gone.value.status_code == 400
    assert gone.value.response_json["success"] is False
    with pytest.raises(RocketApiException) as gone_token:
        other.me()
    assert gone_token.value.status_code == 401
    assert user["username"] not in [u["username"] for u in admin.users_list()]


def test_login_by_email_uses_the_user_field(server, admin):
    user, password = create_user(admin)
    email = user["emails"][0]["address"]
    rocket = RocketChat(email, password, server_url=server.url)
    assert rocket.me()["_id"] == user["_id"]
    admin.users_delete(user["_id"])


def test_users_create_passes_optional_fields(server, admin):
    user, password = create_user(
        admin, verified=True, roles=["user"], requirePasswordChange=False, nickname="nick"
    )
    assert user["emails"][0]["verified"] is True
    assert user["nickname"] == "nick"
    admin.users_delete(user["_id"])


def test_logout_revokes_only_that_token(server):
    first = RocketChat("admin", ADMIN_PASSWORD, server_url=server.url)
    second = RocketChat("admin", ADMIN_PASSWORD, server_url=server.url)
    answer = first.logout()
    assert answer["status"] == "success"
    assert answer["data"]["message"] == "You've been logged out!"
    with pytest.raises(RocketApiException) as after:
        first.me()
    assert after.value.status_code == 401
    assert after.value.response_json["success"] is False
    assert second.me()["username"] == "admin"


def test_unauthenticated_calls_are_refused_in_the_envelope(server):
    rocket = RocketChat(server_url=server.url)
    with pytest.raises(RocketApiException) as refused:
        rocket.me()
    assert refused.value.status_code == 401
    assert refused.value.error == "You must be logged in to do this."
    # the raw HTTP answer, as the library saw it
    raw = requests.get(server.url + "/api/v1/me", timeout=10)
    assert raw.status_code == 401 and raw.json()["success"] is False


def test_roles_and_permissions(server, admin):
    roles = admin.roles_list()
    assert roles["success"] is True
    names = {r["_id"] for r in roles["roles"]}
    assert {"admin", "user"} <= names

    role_name = unique("compat-role-")
    created = admin.roles_create(role_name, description="made by the compat test")
    assert created["success"] is True
    role = created["role"]
    assert role["name"] == role_name
    assert role["description"] == "made by the compat test"

    user, _ = create_user(admin)
    added = admin.roles_add_user_to_role(role["_id"], user["username"])
    assert added["success"] is True and added["role"]["_id"] == role["_id"]
    assert role["_id"] in admin.users_info(user_id=user["_id"])["user"]["roles"]
    members = list(admin.roles_get_users_in_role(role["_id"]))
    assert [m["_id"] for m in members] == [user["_id"]]
    removed = admin.roles_remove_user_from_role(role["_id"], user["username"])
    assert removed["success"] is True
    assert list(admin.roles_get_users_in_role(role["_id"])) == []

    permissions = admin.permissions_list_all()
    assert permissions["success"] is True
    by_id = {p["_id"]: p for p in permissions["update"]}
    assert "admin" in by_id["create-user"]["roles"]
    new_roles = sorted(set(by_id["view-d-room"]["roles"]) | {role["_id"]})
    changed = admin.permissions_update([{"_id": "view-d-room", "roles": new_roles}])
    assert changed["success"] is True
    # like Rocket.Chat, the answer lists every permission
    after = {p["_id"]: p for p in changed["permissions"]}
    assert sorted(after["view-d-room"]["roles"]) == new_roles
    admin.users_delete(user["_id"])


# --- Issue 16: the self-service routes, through the library --------------------------------


def test_set_status_and_presence_through_the_library(server, admin):
    created, password = create_user(admin)
    user = RocketChat(created["username"], password, server_url=server.url, timeout=10)
    try:
        assert user.users_set_status("Out to lunch", status="away")["success"] is True
        # The library has no users_get_status; its generic GET reads the route.
        own = user.call_api_get("users.getStatus")
        assert own["status"] == "away" and own["message"] == "Out to lunch"
        assert admin.users_get_presence(username=created["username"])["presence"] == "away"
        with pytest.raises(RocketApiException):
            user.users_set_status("x", status="sleeping")
    finally:
        user.session.close()


def test_update_own_basic_info_through_the_library(server, admin):
    created, password = create_user(admin)
    user = RocketChat(created["username"], password, server_url=server.url, timeout=10)
    try:
        # The library has no wrapper for this route; its generic POST sends the body as is.
        changed = user.call_api_post("users.updateOwnBasicInfo", body={"data": {"name": "Renamed Through The Library"}})
        assert changed["user"]["name"] == "Renamed Through The Library"
    finally:
        user.session.close()


def test_register_forgot_password_and_settings_through_the_library(server, admin):
    anonymous = RocketChat(server_url=server.url, timeout=10)
    public = {s["_id"]: s["value"] for s in anonymous.settings_public()}  # a paginated iterator
    assert public["Accounts_RegistrationForm"] == "Public"
    username = unique("reg")
    password = "pw-" + uuid.uuid4().hex
    registered = anonymous.users_register(
        email=f"{username}@example.com", name="Registered", password=password, username=username
    )
    assert registered["user"]["username"] == username and "roles" not in registered["user"]
    assert RocketChat(username, password, server_url=server.url, timeout=10).me()["roles"] == ["user"]
    # Never tells whether the address has an account.
    assert anonymous.users_forgot_password(f"{username}@example.com") == {"success": True}
    assert anonymous.users_forgot_password("nobody-at-all@example.com") == {"success": True}


def test_delete_own_account_through_the_library(server, admin):
    created, password = create_user(admin)
    user = RocketChat(created["username"], password, server_url=server.url, timeout=10)
    try:
        digest = __import__("hashlib").sha256(password.encode()).hexdigest()
        with pytest.raises(RocketApiException):
            user.call_api_post("users.deleteOwnAccount", body={"password": "0" * 64})
        # (Its keyword form would rename `password` to `pass`, so the raw body is sent.)
        assert user.call_api_post("users.deleteOwnAccount", body={"password": digest})["success"] is True
    finally:
        user.session.close()
    with pytest.raises(RocketAuthenticationException):
        RocketChat(created["username"], password, server_url=server.url, timeout=10)


def _ddp(method: str, params: list) -> dict:
    """The body Rocket.Chat's web client posts to method.call(Anon)/<method>."""
    return {"message": json.dumps({"msg": "method", "id": "1", "method": method, "params": params})}


def test_method_call_login_and_logout_through_the_library(server, admin):
    created, password = create_user(admin)
    anonymous = RocketChat(server_url=server.url, timeout=10)
    digest = __import__("hashlib").sha256(password.encode()).hexdigest()
    login = {"user": {"username": created["username"]}, "password": {"digest": digest, "algorithm": "sha-256"}}
    answer = anonymous.call_api_post("method.callAnon/login", body=_ddp("login", [login]))
    assert answer["success"] is True
    result = json.loads(answer["message"])["result"]
    assert result["id"] == created["_id"] and result["type"] == "password"
    user = RocketChat(auth_token=result["token"], user_id=result["id"], server_url=server.url, timeout=10)
    try:
        assert user.me()["username"] == created["username"]
        out = user.call_api_post("method.call/logout", body=_ddp("logout", []))
        assert json.loads(out["message"]) == {"msg": "result", "id": "1"}
        with pytest.raises(RocketApiException):
            user.me()
    finally:
        user.session.close()
    wrong = {"user": {"username": created["username"]}, "password": {"digest": "0" * 64, "algorithm": "sha-256"}}
    refused = json.loads(anonymous.call_api_post("method.callAnon/login", body=_ddp("login", [wrong]))["message"])
    assert refused["error"]["error"] == 403 and "result" not in refused


def test_users_info_by_email_and_get_avatar_through_the_library(server, admin):
    created, _ = create_user(admin)
    found = admin.users_info(email=created["emails"][0]["address"])
    assert found["user"]["_id"] == created["_id"]
    # The library follows the 307 to /avatar/<username> and returns the SVG as text.
    svg = admin.users_get_avatar(username=created["username"])
    assert svg.startswith("<svg") and "\nC\n</text>" in svg
    with pytest.raises(RocketApiException):
        admin.users_get_avatar(username=unique("nobody"))
