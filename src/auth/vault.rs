//! A key kept beside the database, never in it: `secret.key` (32 random bytes, mode 0600)
//! in the data directory, or the file `TOKEND_VAULT_KEY_FILE` names (shared by every node,
//! never created). It seals TOTP seeds (ChaCha20-Poly1305) and keys the hashes of
//! backup and e-mail codes (HMAC-SHA-256), so a copy of the database alone yields neither
//! working TOTP codes nor a cheap offline search of the short codes.

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const KEY_FILE_NAME: &str = "secret.key";
const NONCE_LEN: usize = 12;

pub struct Vault {
    key: [u8; 32],
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Vault(***)")
    }
}

/// What `fingerprint` is computed over: a fixed text, so the fingerprint reveals nothing
/// that sealing or code hashing uses.
const FINGERPRINT_INPUT: &[u8] = b"tokend-key-check";

#[derive(Debug, thiserror::Error)]
#[error("cannot use the key file {path}: {cause}. {fix}")]
pub struct VaultError {
    path: PathBuf,
    cause: String,
    fix: &'static str,
}

/// The advice for the key file tokend creates beside the database.
const DATA_DIR_KEY_FIX: &str = "It must be 32 bytes, readable by tokend; restore it from the backup made with the database, or move the database away to start afresh";

/// The advice for a key file the operator supplies (`TOKEND_VAULT_KEY_FILE`).
const SUPPLIED_KEY_FIX: &str = "TOKEND_VAULT_KEY_FILE must name a file of exactly 32 bytes that tokend can read; tokend never creates it. Create it once (e.g. `head -c 32 /dev/urandom > FILE && chmod 600 FILE`) and give every node the same file, or unset TOKEND_VAULT_KEY_FILE to use `secret.key` in the data directory";

impl Vault {
    /// Reads the key file `path`, which must exist: with `TOKEND_VAULT_KEY_FILE` every node
    /// shares one key, so a node must never make up its own.
    pub fn open_existing(path: &Path) -> Result<Vault, VaultError> {
        let fail = |cause: String| VaultError { path: path.to_path_buf(), cause, fix: SUPPLIED_KEY_FIX };
        let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
        let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| fail(format!("it has {} bytes", b.len())))?;
        warn_if_shared(path);
        Ok(Vault { key })
    }

    /// Reads the key file of `data_dir`, creating it (0600) the first time.
    pub fn open_or_create(data_dir: &Path) -> Result<Vault, VaultError> {
        let path = data_dir.join(KEY_FILE_NAME);
        let fail = |cause: String| VaultError { path: path.clone(), cause, fix: DATA_DIR_KEY_FIX };
        match std::fs::read(&path) {
            Ok(bytes) => {
                let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| fail(format!("it has {} bytes", b.len())))?;
                warn_if_shared(&path);
                Ok(Vault { key })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                crate::auth::random::fill(&mut key);
                std::fs::create_dir_all(data_dir).map_err(|e| fail(e.to_string()))?;
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(&path).map_err(|e| fail(e.to_string()))?;
                file.write_all(&key).and_then(|()| file.sync_all()).map_err(|e| fail(e.to_string()))?;
                Ok(Vault { key })
            }
            Err(e) => Err(fail(e.to_string())),
        }
    }

    /// HMAC-SHA-256(key, "tokend-key-check"): what the store records to recognise its key
    /// (`accounts::vault_key`) without holding it.
    pub fn fingerprint(&self) -> [u8; 32] {
        let mut mac = <Hmac<Sha256>>::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(FINGERPRINT_INPUT);
        mac.finalize().into_bytes().into()
    }

    /// A vault with a fixed key, for unit tests.
    pub fn with_key(key: [u8; 32]) -> Vault {
        Vault { key }
    }

    /// Encrypts `plaintext`, bound to `context` (e.g. the user id): nonce ‖ ciphertext.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        crate::auth::random::fill(&mut nonce);
        let cipher = ChaCha20Poly1305::new(&self.key.into());
        let sealed = cipher
            .encrypt(&Nonce::from(nonce), Payload { msg: plaintext, aad: context })
            .expect("ChaCha20-Poly1305 encryption of a short secret cannot fail");
        [nonce.as_slice(), &sealed].concat()
    }

    /// Decrypts what `seal` produced with the same context; `None` if it was tampered with,
    /// sealed for another context, or sealed under another key.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let cipher = ChaCha20Poly1305::new(&self.key.into());
        cipher.decrypt(&Nonce::from(nonce), Payload { msg: ciphertext, aad: context }).ok()
    }

    /// HMAC-SHA-256 of `parts` under the vault key, for short codes that must be stored hashed.
    pub fn keyed_hash(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256>>::new_from_slice(&self.key).expect("HMAC accepts any key length");
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

/// A key others can read is a key others can copy: said at every start, not refused, as
/// the operator may guard the directory instead.
fn warn_if_shared(path: &Path) {
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions());
        if mode & 0o077 != 0 {
            log::warn!(
                "the key file {} has mode {:o}: make it readable by tokend only (chmod 600)",
                path.display(),
                mode & 0o777
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_the_same_key_and_context() {
        let vault = Vault::with_key([7; 32]);
        let sealed = vault.seal(b"seed", b"user-1");
        assert_eq!(vault.open(&sealed, b"user-1").as_deref(), Some(&b"seed"[..]));
        assert_eq!(vault.open(&sealed, b"user-2"), None);
        assert_eq!(Vault::with_key([8; 32]).open(&sealed, b"user-1"), None);
        let mut tampered = sealed.clone();
        tampered[NONCE_LEN] ^= 1;
        assert_eq!(vault.open(&tampered, b"user-1"), None);
        assert_ne!(vault.seal(b"seed", b"user-1"), sealed, "a fresh nonce each time");
    }

    #[test]
    fn keyed_hashes_depend_on_key_and_on_part_boundaries() {
        let a = Vault::with_key([1; 32]);
        assert_eq!(a.keyed_hash(&[b"u", b"code"]), a.keyed_hash(&[b"u", b"code"]));
        assert_ne!(a.keyed_hash(&[b"u", b"code"]), Vault::with_key([2; 32]).keyed_hash(&[b"u", b"code"]));
        assert_ne!(a.keyed_hash(&[b"uc", b"ode"]), a.keyed_hash(&[b"u", b"code"]));
    }

    #[test]
    fn the_key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = Vault::open_or_create(dir.path()).unwrap();
        let again = Vault::open_or_create(dir.path()).unwrap();
        assert_eq!(first.key, again.key);
        std::fs::write(dir.path().join(KEY_FILE_NAME), b"short").unwrap();
        assert!(Vault::open_or_create(dir.path()).is_err());
    }

    #[test]
    fn a_supplied_key_file_is_read_but_never_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cluster.key");
        let missing = Vault::open_existing(&path).unwrap_err().to_string();
        assert!(missing.contains("TOKEND_VAULT_KEY_FILE") && missing.contains("never creates it"), "{missing}");
        assert!(!path.exists());
        std::fs::write(&path, [9u8; 32]).unwrap();
        assert_eq!(Vault::open_existing(&path).unwrap().key, [9; 32]);
        std::fs::write(&path, [9u8; 33]).unwrap();
        assert!(Vault::open_existing(&path).unwrap_err().to_string().contains("it has 33 bytes"));
    }

    #[test]
    fn the_fingerprint_is_the_hmac_of_a_fixed_text_and_differs_per_key() {
        let a = Vault::with_key([1; 32]);
        let mut mac = <Hmac<Sha256>>::new_from_slice(&[1; 32]).unwrap();
        mac.update(b"tokend-key-check");
        assert_eq!(a.fingerprint(), <[u8; 32]>::from(mac.finalize().into_bytes()));
        assert_ne!(a.fingerprint(), Vault::with_key([2; 32]).fingerprint());
    }
}
