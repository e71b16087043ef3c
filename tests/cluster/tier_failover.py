"""Tiers 4–6: the primary dies (or hangs) under mint/revoke churn through three nodes, and the
standby is promoted.

Workers log users in (mint) and out (revoke) on random nodes and record what was
acknowledged. Two seconds in, FAULT_CMD (tests/cluster/fault.sh) freezes the primary's
walsender for 1 s, kills or stops the primary and promotes the standby. The churn goes on
until every node has served a request again. Then every acknowledged mint must still work
and every acknowledged revocation must still be refused. A request that got no clear answer
leaves its token out of both checks (it may or may not have committed), and the tokens of
each user are kept well under MAX_RESUME_LOGIN_TOKENS so that no eviction can pass for a loss."""

import random
import shlex
import subprocess
import threading
import time

from clusterlib import create_user, me_status, must_login, login, post

USERS = 24
WORKERS = 6
# Live plus uncertain mints per user stay below MAX_RESUME_LOGIN_TOKENS (50).
TOKENS_PER_USER = 30
WARM_UP_SECS = 2.0
RECOVERY_LIMIT_SECS = 30.0
AFTER_RECOVERY_SECS = 1.0


class Churn:
    def __init__(self, nodes, names):
        self.nodes = nodes
        self.names = names
        self.lock = threading.Lock()
        self.live = {n: [] for n in names}  # acknowledged mints, not revoked
        self.uncertain_mints = {n: 0 for n in names}
        self.revoked = []
        self.acked_mints = 0
        self.mint_refused = 0  # an acknowledged mint refused at its own logout: a loss
        self.successes = []  # (monotonic time, node index)
        self.failed = 0
        self.stop = threading.Event()

    def step(self, rng, name):
        node = rng.randrange(3)
        base = self.nodes[node]
        with self.lock:
            live = self.live[name]
            full = len(live) + self.uncertain_mints[name] >= TOKENS_PER_USER
            token = live.pop(rng.randrange(len(live))) if live and (full or rng.random() < 0.5) else None
        if token is None and full:
            return True  # nothing this user may do now
        if token is not None:
            status = post(base, "/api/v1/logout", {}, token)[0]
            with self.lock:
                if status == 200:
                    self.revoked.append(token)
                elif status == 401:
                    self.mint_refused += 1
        else:
            status, _, session = login(base, name, name + "-password")
            with self.lock:
                if session is not None:
                    self.live[name].append(session)
                    self.acked_mints += 1
                else:
                    self.uncertain_mints[name] += 1
        with self.lock:
            if status == 200:
                self.successes.append((time.monotonic(), node))
            else:
                self.failed += 1
        return status == 200

    def worker(self, w):
        rng = random.Random(w)
        mine = self.names[w::WORKERS]
        while not self.stop.is_set():
            if not self.step(rng, rng.choice(mine)):
                time.sleep(0.2)  # an outage: do not pile up uncertain mints

    def served_since(self, t):
        with self.lock:
            return {node for (at, node) in self.successes if at > t}


def verify(churn):
    """(acknowledged mints that no longer work, acknowledged revocations undone)."""
    minted = [s for tokens in churn.live.values() for s in tokens]
    results = {"lost": 0, "undone": 0}
    lock = threading.Lock()

    def check(part, offset):
        for i, session in enumerate(part):
            status = me_status(churn.nodes[(i + offset) % 3], session)
            with lock:
                if status != 200 and session in minted_set:
                    results["lost"] += 1
                elif status != 401 and session in revoked_set:
                    results["undone"] += 1

    minted_set, revoked_set = set(minted), set(churn.revoked)
    everything = minted + churn.revoked
    threads = [threading.Thread(target=check, args=(everything[k::4], k)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results["lost"] + churn.mint_refused, results["undone"]


def longest_gap(successes, start):
    times = sorted(at for (at, _) in successes if at >= start - 5)
    return max((b - a for a, b in zip(times, times[1:])), default=float("inf"))


def run(tap, nodes, admin_password, fault_cmd, label, control=False):
    """Returns the number of losses seen (acknowledged mints lost plus revocations undone)."""
    admin = must_login(nodes[0], "admin", admin_password)
    names = ["churn%d" % i for i in range(USERS)]
    for i, name in enumerate(names):
        create_user(nodes[i % 3], admin, name, name + "-password")
    churn = Churn(nodes, names)
    threads = [threading.Thread(target=churn.worker, args=(w,)) for w in range(WORKERS)]
    for t in threads:
        t.start()
    time.sleep(WARM_UP_SECS)
    fault_start = time.monotonic()
    fault = subprocess.run(shlex.split(fault_cmd), capture_output=True, text=True, timeout=120)
    promoted = time.monotonic()
    deadline = promoted + RECOVERY_LIMIT_SECS
    while churn.served_since(promoted) != {0, 1, 2} and time.monotonic() < deadline:
        time.sleep(0.1)
    recovered = churn.served_since(promoted)
    time.sleep(AFTER_RECOVERY_SECS)
    churn.stop.set()
    for t in threads:
        t.join()
    gap = longest_gap(churn.successes, fault_start)
    lost, undone = verify(churn)
    minted, revoked = churn.acked_mints, len(churn.revoked)
    figures = ("%d acknowledged mints, %d acknowledged revocations, %d failed requests, outage %.1f s, "
               "%d mints lost, %d revocations undone" % (minted, revoked, churn.failed, gap, lost, undone))
    if fault.returncode != 0:
        tap.note("fault command failed: %s %s" % (fault.stdout, fault.stderr))
    if control:
        tap.note("%s: %s" % (label, figures))
        return lost + undone
    tap.check(fault.returncode == 0, "%s: %s (%.1f s)" % (label, fault_cmd, promoted - fault_start))
    tap.check(recovered == {0, 1, 2}, "%s: all 3 nodes serve again without a restart (nodes that did: %s)"
              % (label, sorted(n + 1 for n in recovered)))
    tap.check(gap < 10, "%s: outage %.1f s (< 10 s)" % (label, gap))
    tap.check(lost == 0 and undone == 0 and minted > 0 and revoked > 0, "%s: %s" % (label, figures))
    return lost + undone
