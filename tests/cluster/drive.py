#!/usr/bin/env python3
"""Drives one tier of the cluster test (tests/cluster/nodes_test.sh) against three running
tokend nodes and prints TAP-style lines with the tier's figures. Python 3 stdlib only.

    drive.py revocation  NODES ADMIN_PASSWORD
    drive.py invariants  NODES ADMIN_PASSWORD SMTP_SPOOL
    drive.py node-death  NODES ADMIN_PASSWORD PID_OF_NODE_1
    drive.py failover    NODES ADMIN_PASSWORD LABEL FAULT_CMD
    drive.py control     NODES ADMIN_PASSWORD LABEL FAULT_CMD

NODES is the nodes' base URLs, comma-separated. Exit status: 0 when every check passed;
for `control`, 0 when a loss was seen and 3 when none was (the caller retries)."""

import sys

import tier_failover
import tier_invariants
import tier_node_death
import tier_revocation
from clusterlib import Tap


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    tier, nodes, password, rest = argv[0], argv[1].split(","), argv[2], argv[3:]
    if len(nodes) != 3:
        print("three node URLs expected", file=sys.stderr)
        return 2
    tap = Tap()
    if tier == "revocation":
        tier_revocation.run(tap, nodes, password)
    elif tier == "invariants":
        tier_invariants.run(tap, nodes, password, rest[0])
    elif tier == "node-death":
        tier_node_death.run(tap, nodes, password, int(rest[0]))
    elif tier == "failover":
        tier_failover.run(tap, nodes, password, rest[1], rest[0])
    elif tier == "control":
        return 0 if tier_failover.run(tap, nodes, password, rest[1], rest[0], control=True) > 0 else 3
    else:
        print("unknown tier %r" % tier, file=sys.stderr)
        return 2
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
