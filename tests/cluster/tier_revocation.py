"""Tier 1: a revocation through any node is refused by every node on the very next request.

Each round logs a user in on a random node, uses the token on all three, revokes it on a
random node in one of five ways, and then sends exactly one request with it to each node:
every one must be 401 (the bound is 0: no node may serve a revoked token even once). Four
lanes of rounds run side by side, each with users of its own."""

import random
import threading

from clusterlib import create_user, get, must_login, post, gated_post, me_status

LANES = 4
USERS_PER_LANE = 2
METHODS = ("logout", "users.logout", "users.setActiveStatus", "users.update active", "password change")


def revoke(method, base, admin, admin_password, user, session):
    """Revokes `session` of `user` (a dict with id and password) on `base`; (status, body)."""
    if method == "logout":
        return post(base, "/api/v1/logout", {}, session)
    if method == "users.logout":
        return post(base, "/api/v1/users.logout", {"userId": user["id"]}, admin)
    if method == "users.setActiveStatus":
        return post(base, "/api/v1/users.setActiveStatus", {"userId": user["id"], "activeStatus": False}, admin)
    if method == "users.update active":
        return gated_post(base, "/api/v1/users.update", {"userId": user["id"], "data": {"active": False}},
                          admin, admin_password)
    user["password"] = "pw-%s-%d" % (user["name"], random.randrange(10**9))
    return gated_post(base, "/api/v1/users.update", {"userId": user["id"], "data": {"password": user["password"]}},
                      admin, admin_password)


def lane(nodes, admin, admin_password, users, rounds, seed, tally):
    """`rounds` rounds over `users`, alone with them: no other lane touches their tokens, so
    "the very next request" is this lane's next request."""
    rng = random.Random(seed)
    for r in range(rounds):
        user = users[r % len(users)]
        method = METHODS[(seed + r) % len(METHODS)]
        minting, revoking = rng.randrange(3), rng.randrange(3)
        session = must_login(nodes[minting], user["name"], user["password"])
        statuses = [me_status(base, session) for base in nodes]
        if statuses == [200, 200, 200]:
            tally["used everywhere"] += 1
        else:
            tally["failures"].append("%s: fresh token from node %d answered %s" % (user["name"], minting + 1, statuses))
        status, body = revoke(method, nodes[revoking], admin, admin_password, user, session)
        if status != 200:
            tally["failures"].append("%s on node %d answered %s %s" % (method, revoking + 1, status, body))
            continue
        # The very next request on each node, in a random order.
        order = rng.sample(range(3), 3)
        after = {i + 1: me_status(nodes[i], session) for i in order}
        if all(s == 401 for s in after.values()):
            tally["refused everywhere"] += 1
        else:
            tally["failures"].append("after %s on node %d the token answered %s" % (method, revoking + 1, after))
        if method in ("users.setActiveStatus", "users.update active"):
            status, body = post(nodes[rng.randrange(3)], "/api/v1/users.setActiveStatus",
                                {"userId": user["id"], "activeStatus": True}, admin)
            if status != 200:
                tally["failures"].append("reactivation answered %s %s" % (status, body))


def run(tap, nodes, admin_password, rounds=200):
    admin = must_login(nodes[0], "admin", admin_password)
    users = []
    for i in range(USERS_PER_LANE * LANES):
        name = "round%d" % i
        password = "pw-%s-initial" % name
        users.append({"name": name, "password": password, "id": create_user(nodes[i % 3], admin, name, password)})
    tally = {"used everywhere": 0, "refused everywhere": 0, "failures": []}
    # Lanes run side by side so that the bcrypt of logins and password changes uses both cores.
    lanes = [threading.Thread(target=lane, args=(nodes, admin, admin_password, users[k::LANES], rounds // LANES,
                                                 k, tally)) for k in range(LANES)]
    for t in lanes:
        t.start()
    for t in lanes:
        t.join()
    for line in tally["failures"][:10]:
        tap.note(line)
    tap.check(tally["used everywhere"] == rounds,
              "tier 1: %d/%d fresh tokens worked on all 3 nodes" % (tally["used everywhere"], rounds))
    tap.check(tally["refused everywhere"] == rounds,
              "tier 1: %d/%d revocations (%s) were refused by all 3 nodes on the very next request"
              % (tally["refused everywhere"], rounds, ", ".join(METHODS)))
    # The admin's own session outlived 200 rounds of other users' revocations.
    tap.check(get(nodes[2], "/api/v1/me", admin)[0] == 200, "tier 1: the admin's token still works")
