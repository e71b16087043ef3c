"""schemathesis hooks for tests/contract/run.sh.

The fuzz learns real ids from responses (its own id among them, from /api/v1/me) and reuses
them. Left alone, it sometimes changes the password of the very account it authenticates
with, and every later request is then a 401: a run that passes or fails by chance. This hook
points such requests at an id that exists nowhere, so they still exercise the route (and get
its "no such user" answer) without locking the fuzz out. `users.updateOwnBasicInfo` names no
id (it changes the caller), and with 2FA off, as in the fuzz, it needs no current password:
its `newPassword` and `username` are dropped, since either locks the fuzz's own login out.
Nothing else is changed.
"""

import os

import schemathesis

FUZZ_USER_ID = os.environ["TOKEND_FUZZ_USER_ID"]
# 17 characters of tokend's id alphabet, never issued to anyone in the fuzz's fresh store.
NOBODY = "2222222222222222A"


@schemathesis.hook
def before_call(context, case, kwargs):
    path, method = case.operation.path, case.method.upper()
    if path in ("/node/api/users/{id}/password", "/node/api/users/{id}") and method in ("PUT", "PATCH"):
        if (case.path_parameters or {}).get("id") == FUZZ_USER_ID:
            case.path_parameters["id"] = NOBODY
    if path == "/api/v1/users.update" and isinstance(case.body, dict) and case.body.get("userId") == FUZZ_USER_ID:
        case.body["userId"] = NOBODY
    if path == "/api/v1/users.updateOwnBasicInfo" and isinstance(case.body, dict):
        data = case.body.get("data")
        if isinstance(data, dict):
            data.pop("newPassword", None)
            data.pop("username", None)
