"""Runs a command of a container image in the image's own root filesystem, as a container
runtime would: chroot into ROOTFS, change to the image's WorkingDir, drop to its User, and
exec with exactly its Env (plus KEY=VALUE overrides, like `-e`). This machine cannot start
containers, so this is how the test proves the exported image itself serves.

    rootfs_run.py ROOTFS CONFIG_JSON [-e KEY=VALUE]... serve        Entrypoint + Cmd
    rootfs_run.py ROOTFS CONFIG_JSON [-e KEY=VALUE]... healthcheck  the HEALTHCHECK test
    rootfs_run.py ROOTFS CONFIG_JSON [-e KEY=VALUE]... exec ARG...  Entrypoint + ARGs

CONFIG_JSON is the image's config file from `podman save` (its "config" object is used).
Needs root (chroot).
"""

import json
import os
import sys


def main(argv):
    rootfs, config_path, rest = argv[1], argv[2], argv[3:]
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)["config"]
    env = dict(item.split("=", 1) for item in config.get("Env") or [])
    while rest[:1] == ["-e"]:
        key, value = rest[1].split("=", 1)
        env[key] = value
        rest = rest[2:]
    mode, args = rest[0], rest[1:]
    entrypoint = config.get("Entrypoint") or []
    if mode == "serve":
        command = entrypoint + (config.get("Cmd") or [])
    elif mode == "healthcheck":
        test = config["Healthcheck"]["Test"]
        if test[0] != "CMD":
            sys.exit(f"rootfs_run.py: only the exec form of HEALTHCHECK (CMD) runs without a shell: {test}")
        command = test[1:]
    elif mode == "exec":
        command = entrypoint + args
    else:
        sys.exit(__doc__)
    user, _, group = (config.get("User") or "0").partition(":")
    uid, gid = int(user), int(group or user)
    os.chroot(rootfs)
    os.chdir(config.get("WorkingDir") or "/")
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    os.execve(command[0], command, env)


if __name__ == "__main__":
    main(sys.argv)
