"""Tier 2: the read-then-write rules of tests/api/races.rs hold when the racing requests are
spread over three nodes (each node a separate process with its own connections, so only
the database's serialisation can keep them).

The nodes run with TOKEND_MAX_PERSONAL_ACCESS_TOKENS=10, the default
MAX_RESUME_LOGIN_TOKENS (50), TOKEND_2FA_EMAIL_MAX_ATTEMPTS (5) and
TOKEND_LOGIN_BLOCK_USER_ATTEMPTS (10), e-mail through smtp_sink.py, and 127.0.0.1 on the
address allowlist (every request of the test comes from it; blocking by account is tested)."""

import os
import re
import time

from clusterlib import (all_at_once, create_user, error_of, gated_post, get, login, me_status, must_login,
                        post, totp_code)

LOGIN_CAP = 50
PAT_CAP = 10
EMAIL_MAX_ATTEMPTS = 5
BLOCK_USER_ATTEMPTS = 10


def token_cap(tap, nodes, admin):
    create_user(nodes[0], admin, "capped", "capped-password")
    results = all_at_once([lambda i=i: login(nodes[i % 3], "capped", "capped-password") for i in range(200)])
    sessions = [s for (_, _, s) in results if s is not None]
    tap.check(len(sessions) == 200, "tier 2: 200 concurrent logins of one user over 3 nodes: %d succeeded"
              % len(sessions))
    alive = [s for i, s in enumerate(sessions) if me_status(nodes[i % 3], s) == 200]
    tap.check(len(alive) == LOGIN_CAP, "tier 2: exactly %d of them still work (%d)" % (LOGIN_CAP, len(alive)))
    # The audit log is written in each minting transaction: newest first is commit order.
    status, body = get(nodes[1], "/api/v1/tokend.audit?user=capped&event=token.created&count=0", admin)
    labels = [e["tokenLabel"] for e in body.get("events", []) if e.get("tokenKind") == "login"] if status == 200 else []
    newest = sorted(labels[:LOGIN_CAP])
    survivors = sorted(s.token[-len(newest[0]):] for s in alive) if newest else []
    tap.check(len(labels) == 200 and survivors == newest,
              "tier 2: the survivors are the %d newest mints in commit order (audit: %d mints)"
              % (LOGIN_CAP, len(labels)))


def pat_cap_and_names(tap, nodes, admin):
    create_user(nodes[0], admin, "patcap", "patcap-password")
    owner = must_login(nodes[1], "patcap", "patcap-password")
    path = "/api/v1/users.generatePersonalAccessToken"
    results = all_at_once([lambda i=i: gated_post(nodes[i % 3], path, {"tokenName": "pat-%d" % i}, owner,
                                                   "patcap-password") for i in range(60)])
    created = sum(1 for s, _ in results if s == 200)
    refused = sum(1 for s, b in results if s == 400 and error_of(b) == "error-token-limit-reached")
    tap.check(created == PAT_CAP and refused == 60 - PAT_CAP,
              "tier 2: 60 concurrent PAT creations over 3 nodes: %d created, %d refused at the cap of %d"
              % (created, refused, PAT_CAP))
    status, body = get(nodes[2], "/api/v1/users.getPersonalAccessTokens", owner)
    tap.check(status == 200 and len(body["tokens"]) == PAT_CAP, "tier 2: the PAT list holds %s"
              % (len(body["tokens"]) if status == 200 else body))

    create_user(nodes[0], admin, "patname", "patname-password")
    owner = must_login(nodes[2], "patname", "patname-password")
    results = all_at_once([lambda i=i: gated_post(nodes[i % 3], path, {"tokenName": "same"}, owner,
                                                   "patname-password") for i in range(30)])
    created = sum(1 for s, _ in results if s == 200)
    refused = sum(1 for s, b in results if s == 400 and error_of(b) == "error-token-already-exists")
    status, body = get(nodes[0], "/api/v1/users.getPersonalAccessTokens", owner)
    listed = [t["name"] for t in body.get("tokens", [])] if status == 200 else body
    tap.check(created == 1 and refused == 29 and listed == ["same"],
              "tier 2: 30 concurrent PATs named alike over 3 nodes: %d created, %d refused, listed %s"
              % (created, refused, listed))


def totp_and_backup_codes(tap, nodes, admin):
    create_user(nodes[0], admin, "totp", "totp-password")
    owner = must_login(nodes[0], "totp", "totp-password")
    status, body = gated_post(nodes[1], "/api/v1/users.enableTotp", {}, owner, "totp-password")
    secret = body["secret"]
    status, body = gated_post(nodes[2], "/api/v1/users.validateTotp", {"code": totp_code(secret)}, owner,
                              "totp-password")
    if not tap.check(status == 200, "tier 2: TOTP enrolled through two nodes (%s)" % status):
        return
    backup = body["codes"]
    # The next step's code: inside the accepted window and not used by the enrolment.
    code = totp_code(secret, 1)
    results = all_at_once([lambda i=i: login(nodes[i], "totp", "totp-password", code)[0] for i in (0, 1)])
    tap.check(sorted(results) == [200, 401], "tier 2: one TOTP code sent to 2 nodes at once: %s" % results)
    for pair, backup_code in zip(((1, 2), (2, 0), (0, 1)), backup):
        results = all_at_once([lambda i=i: login(nodes[i], "totp", "totp-password", backup_code)[0] for i in pair])
        tap.check(sorted(results) == [200, 401], "tier 2: one backup code sent to nodes %d and %d at once: %s"
                  % (pair[0] + 1, pair[1] + 1, results))


def mails(spool):
    names = sorted((n for n in os.listdir(spool) if n.endswith(".eml")), key=lambda n: int(n[:-4]))
    return [open(os.path.join(spool, n), encoding="utf-8", errors="replace").read() for n in names]


def email_code_attempts(tap, nodes, admin, spool, name):
    """EMAIL_MAX_ATTEMPTS wrong codes at once over the nodes: the attempts are summed, so
    exactly one of them is told the code is dead. (More than the limit would not give a
    sharper check: each refusal is followed by a separate "send a code unless one is live"
    step, which may legitimately mail a fresh code once the first one died, and later
    guesses would count against that one.)"""
    create_user(nodes[0], admin, name, name + "-password", verified=True)
    owner = must_login(nodes[0], name, name + "-password")
    status, body = post(nodes[1], "/api/v1/users.2fa.enableEmail", {}, owner)
    if not tap.check(status == 200, "tier 2: %s: e-mail 2FA enabled (%s %s)" % (name, status, body)):
        return
    before = len(mails(spool))
    status, body, _ = login(nodes[2], name, name + "-password")
    deadline = time.monotonic() + 10
    while not any(name + "@example.com" in m for m in mails(spool)[before:]) and time.monotonic() < deadline:
        time.sleep(0.05)
    sent = [m for m in mails(spool)[before:] if name + "@example.com" in m]
    found = re.search(r"(?<!\d)(\d{3})-(\d{3})(?!\d)", sent[-1]) if sent else None
    if not tap.check(status == 401 and found is not None, "tier 2: %s: a password login mails a code (%s %s)"
                     % (name, status, error_of(body))):
        return
    code = found.group(1) + found.group(2)
    wrong = "000000" if code != "000000" else "111111"
    results = all_at_once([lambda i=i: error_of(login(nodes[i % 3], name, name + "-password", wrong)[1])
                           for i in range(EMAIL_MAX_ATTEMPTS)])
    invalid, maxed = results.count("totp-invalid"), results.count("totp-max-attempts")
    tap.check(invalid == EMAIL_MAX_ATTEMPTS - 1 and maxed == 1,
              "tier 2: %s: %d wrong e-mail codes at once over 3 nodes: %d totp-invalid, %d totp-max-attempts"
              % (name, EMAIL_MAX_ATTEMPTS, invalid, maxed))
    status, body, _ = login(nodes[0], name, name + "-password", code)
    tap.check(status == 401 and error_of(body) in ("totp-max-attempts", "totp-invalid"),
              "tier 2: %s: the right code is dead after the summed attempts (%s %s)" % (name, status, error_of(body)))


def blocking(tap, nodes, admin):
    create_user(nodes[0], admin, "guessed", "guessed-password")
    answers = [login(nodes[i % 3], "guessed", "wrong-password")[0] for i in range(BLOCK_USER_ATTEMPTS)]
    blocked = [error_of(login(base, "guessed", "guessed-password")[1]) for base in nodes]
    tap.check(answers == [401] * BLOCK_USER_ATTEMPTS and blocked == ["error-login-blocked-for-user"] * 3,
              "tier 2: %d failed logins spread over 3 nodes block the account on all of them: %s"
              % (BLOCK_USER_ATTEMPTS, blocked))


def last_admin(tap, nodes, admin, rounds=5):
    """Two admins delete each other at once on two nodes: exactly one admin remains."""
    survivor = admin
    outcomes = []
    for r in range(rounds):
        name = "admin%d" % r
        other_id = create_user(nodes[0], survivor, name, name + "-password", roles=("admin",))
        other = must_login(nodes[1], name, name + "-password")
        a, b = r % 3, (r + 1) % 3
        all_at_once([lambda: post(nodes[a], "/api/v1/users.delete", {"userId": other_id}, survivor),
                     lambda: post(nodes[b], "/api/v1/users.delete", {"userId": survivor.user_id}, other)])
        alive = [s for s in (survivor, other) if me_status(nodes[2], s) == 200]
        if len(alive) != 1:
            outcomes.append("round %d: %d of the 2 admins left" % (r, len(alive)))
            break
        status, body = get(nodes[r % 3], "/api/v1/roles.getUsersInRole?role=admin", alive[0])
        admins = body.get("total") if status == 200 else body
        outcomes.append(str(admins))
        if admins != 1:
            break
        survivor = alive[0]
    tap.check(outcomes == ["1"] * rounds,
              "tier 2: %d last-admin races (two admins delete each other on two nodes): admins left %s"
              % (rounds, ", ".join(outcomes)))


def run(tap, nodes, admin_password, spool):
    admin = must_login(nodes[0], "admin", admin_password)
    token_cap(tap, nodes, admin)
    pat_cap_and_names(tap, nodes, admin)
    totp_and_backup_codes(tap, nodes, admin)
    for name in ("mailer1", "mailer2", "mailer3"):
        email_code_attempts(tap, nodes, admin, spool, name)
    blocking(tap, nodes, admin)
    last_admin(tap, nodes, admin)
