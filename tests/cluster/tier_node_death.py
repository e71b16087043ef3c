"""Tier 3: SIGKILL of one tokend node under a login + /me loop spread over the three nodes.

A node holds no state of its own, so its death may cost only the requests sent to it: the
other two answer every request, and every token the dead node acknowledged before it died
works on both survivors."""

import os
import signal
import threading
import time

from clusterlib import create_user, login, me_status, must_login, post

USERS_PER_WORKER = 3
WORKERS = 4
TOKENS_BEFORE_KILL = 8
LOOP_AFTER_KILL_SECS = 2.0


def run(tap, nodes, admin_password, victim_pid):
    admin = must_login(nodes[0], "admin", admin_password)
    names = ["walker%d" % i for i in range(USERS_PER_WORKER * WORKERS)]
    for i, name in enumerate(names):
        create_user(nodes[i % 3], admin, name, name + "-password")
    lock = threading.Lock()
    acked_by_victim = []  # tokens node 1 answered 200 for
    survivors = {"requests": 0, "after_kill": 0, "failures": []}
    stop = threading.Event()
    killed = threading.Event()

    def on_survivor(status, what):
        with lock:
            survivors["requests"] += 1
            survivors["after_kill"] += killed.is_set()
            if status != 200:
                survivors["failures"].append("%s answered %s" % (what, status))

    def worker(w):
        j = 0
        while not stop.is_set():
            name = names[w * USERS_PER_WORKER + j % USERS_PER_WORKER]
            minting = (w + j) % 3
            j += 1
            status, _, session = login(nodes[minting], name, name + "-password")
            if minting == 0:
                if session is not None and not killed.is_set():
                    with lock:
                        acked_by_victim.append(session)
                elif session is None and not killed.is_set():
                    on_survivor(status, "login on node 1 before its death")
                if session is None:
                    continue
            else:
                on_survivor(status, "login on node %d" % (minting + 1))
                if session is None:
                    continue
            checking = 1 + j % 2  # never the victim: its answers after the kill prove nothing
            on_survivor(me_status(nodes[checking], session), "/me on node %d" % (checking + 1))
            if minting != 0:  # the victim's tokens stay alive for the final check
                on_survivor(post(nodes[minting], "/api/v1/logout", {}, session)[0],
                            "logout on node %d" % (minting + 1))

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(WORKERS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while len(acked_by_victim) < TOKENS_BEFORE_KILL and time.monotonic() < deadline:
        time.sleep(0.05)
    with lock:
        killed.set()
        os.kill(victim_pid, signal.SIGKILL)
        acknowledged = list(acked_by_victim)
    time.sleep(LOOP_AFTER_KILL_SECS)
    stop.set()
    for t in threads:
        t.join()
    for line in survivors["failures"][:10]:
        tap.note(line)
    tap.check(not survivors["failures"] and survivors["after_kill"] > 0,
              "tier 3: node 1 SIGKILLed mid-loop; nodes 2 and 3 answered %d requests (%d after the kill), %d failed"
              % (survivors["requests"], survivors["after_kill"], len(survivors["failures"])))
    working = sum(1 for s in acknowledged if me_status(nodes[1], s) == 200 and me_status(nodes[2], s) == 200)
    tap.check(len(acknowledged) >= TOKENS_BEFORE_KILL and working == len(acknowledged),
              "tier 3: %d/%d tokens node 1 acknowledged before its death work on nodes 2 and 3"
              % (working, len(acknowledged)))
