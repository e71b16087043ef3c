//! A small file system of the test's own, mounted under a temporary directory, on which
//! storage faults can be switched on and off while tokend runs. Needs root and the right to
//! mount; `None` (with the reason printed) lets a test skip where that is not given.

use std::fs::File;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

pub struct Scratch {
    /// Holds the mount point and the ext4 image; deleted after the unmount.
    _root: TempDir,
    mount_point: PathBuf,
}

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program).args(args).output().map_err(|e| format!("cannot run {program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{program} {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Scratch {
    /// A tmpfs of `megabytes`, for filling up.
    pub fn tmpfs(test: &str, megabytes: u32) -> Option<Scratch> {
        Scratch::mount(test, |point| {
            run("mount", &["-t", "tmpfs", "-o", &format!("size={megabytes}m,mode=0700"), "tmpfs", point])
        })
    }

    /// An ext4 file system in a loop-mounted image of `megabytes`: ext4 refuses writes to an
    /// immutable file even through descriptors opened before (tmpfs does not), and a busy
    /// file system cannot be remounted read-only, so `chattr +i` is how a running server's
    /// database file turns read-only.
    pub fn ext4(test: &str, megabytes: u32) -> Option<Scratch> {
        Scratch::mount(test, |point| {
            let image = format!("{point}.img");
            File::create(&image).and_then(|f| f.set_len(u64::from(megabytes) << 20)).map_err(|e| e.to_string())?;
            run("mkfs.ext4", &["-q", "-F", "-m", "0", &image])?;
            run("mount", &["-o", "loop", &image, point])
        })
    }

    fn mount(test: &str, mount: impl FnOnce(&str) -> Result<(), String>) -> Option<Scratch> {
        if !is_root() {
            println!("skipping {test}: it mounts a scratch file system, which needs root");
            return None;
        }
        let root = tempfile::tempdir().expect("temp dir");
        let mount_point = root.path().join("fs");
        std::fs::create_dir(&mount_point).unwrap();
        match mount(mount_point.to_str().unwrap()) {
            Ok(()) => Some(Scratch { _root: root, mount_point }),
            Err(why) => {
                println!("skipping {test}: cannot mount a scratch file system ({why})");
                None
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.mount_point
    }

    /// Writes a filler file until the file system is full; returns its size.
    pub fn fill(&self) -> u64 {
        let mut filler = File::create(self.mount_point.join("filler")).expect("create filler");
        let chunk = vec![0u8; 64 * 1024];
        let mut written = 0u64;
        loop {
            match filler.write(&chunk) {
                Ok(0) => break,
                Ok(n) => written += n as u64,
                Err(e) if e.kind() == ErrorKind::StorageFull => break,
                Err(e) => panic!("filling the scratch file system: {e}"),
            }
        }
        // The last partial chunk may have been accepted short; the next byte must not fit.
        assert!(filler.write(&[0]).is_err(), "the scratch file system is not full");
        written
    }

    pub fn free(&self) {
        std::fs::remove_file(self.mount_point.join("filler")).expect("remove filler");
    }

    /// Remounts the whole file system read-only (or writable again). Only possible while no
    /// file on it is open for writing, i.e. while tokend is stopped.
    pub fn remount(&self, read_only: bool) {
        let options = if read_only { "remount,ro" } else { "remount,rw" };
        run("mount", &["-o", options, self.mount_point.to_str().unwrap()]).expect("remount");
    }

    /// `chattr +i` (or `-i`) on `files`: writes to them fail with EPERM, for root too.
    pub fn set_immutable(&self, files: &[&Path], immutable: bool) {
        let flag = if immutable { "+i" } else { "-i" };
        for file in files {
            run("chattr", &[flag, file.to_str().unwrap()]).expect("chattr");
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let point = self.mount_point.to_str().unwrap();
        // Lazy, so that it cannot fail on a server that is still exiting; a loop device
        // detaches itself once the file system is released.
        if let Err(why) = run("umount", &["-l", point]) {
            eprintln!("cleanup: {why}");
        }
    }
}
