//! TOTP (RFC 6238): HMAC-SHA-1, 6 digits, 30-second steps, as authenticator apps and
//! Rocket.Chat (speakeasy's defaults) use it; plus the 8-character backup codes.

use data_encoding::BASE32_NOPAD;
use subtle::ConstantTimeEq;
use totp_lite::{Sha1, totp_custom};

pub const STEP_SECONDS: u64 = 30;
pub const DIGITS: u32 = 6;
pub const BACKUP_CODES: usize = 12;
pub const BACKUP_CODE_LENGTH: usize = 8;

/// A new 160-bit seed (RFC 4226 R6 recommends 160) from the OS CSPRNG.
pub fn generate_secret() -> Vec<u8> {
    let mut seed = vec![0u8; 20];
    crate::auth::random::fill(&mut seed);
    seed
}

pub fn base32(secret: &[u8]) -> String {
    BASE32_NOPAD.encode(secret)
}

/// The enrolment URL authenticator apps scan (spec §10.3: label `Rocket.Chat:<username>`,
/// no separate issuer parameter).
pub fn otpauth_url(label_prefix: &str, username: &str, secret: &[u8]) -> String {
    let label = format!("{label_prefix}:{username}");
    let encoded: String = label
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("otpauth://totp/{encoded}?secret={}", base32(secret))
}

/// The code for time step `step`.
pub fn code_at_step(secret: &[u8], step: u64) -> String {
    // totp_custom computes floor(time / step) itself; time = step * 30 lands on the step.
    totp_custom::<Sha1>(STEP_SECONDS, DIGITS, secret, step.saturating_mul(STEP_SECONDS))
}

/// The step whose code `code` is, among `now`'s step ± `window`; `None` otherwise. Only
/// exactly six ASCII digits are considered, compared in constant time.
pub fn matching_step(secret: &[u8], code: &str, now_secs: u64, window: u64) -> Option<u64> {
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = now_secs / STEP_SECONDS;
    let mut found = None;
    for step in current.saturating_sub(window)..=current.saturating_add(window) {
        let expected = code_at_step(secret, step);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
            found = Some(step);
        }
    }
    found
}

/// Twelve fresh backup codes of 8 characters from Rocket.Chat's id alphabet.
pub fn generate_backup_codes() -> Vec<String> {
    (0..BACKUP_CODES).map(|_| crate::auth::random::id_of_length(BACKUP_CODE_LENGTH)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use totp_lite::{Sha256, Sha512};

    const SEED_SHA1: &[u8] = b"12345678901234567890";
    const SEED_SHA256: &[u8] = b"12345678901234567890123456789012";
    const SEED_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    #[test]
    fn rfc4226_appendix_d_hotp_values() {
        // HOTP(K, C) is TOTP with a 1-second step at time C.
        let expected =
            ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];
        for (count, code) in expected.iter().enumerate() {
            assert_eq!(totp_custom::<Sha1>(1, 6, SEED_SHA1, count as u64), *code, "count {count}");
        }
    }

    #[test]
    fn rfc6238_appendix_b_vectors_at_eight_digits() {
        let rows: [(u64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (t, sha1, sha256, sha512) in rows {
            assert_eq!(totp_custom::<Sha1>(30, 8, SEED_SHA1, t), sha1, "SHA-1 at {t}");
            assert_eq!(totp_custom::<Sha256>(30, 8, SEED_SHA256, t), sha256, "SHA-256 at {t}");
            assert_eq!(totp_custom::<Sha512>(30, 8, SEED_SHA512, t), sha512, "SHA-512 at {t}");
        }
        // The classic bug: the SHA-1 seed fed to HMAC-SHA-256.
        assert_eq!(totp_custom::<Sha256>(30, 8, SEED_SHA1, 59), "32247374");
    }

    #[test]
    fn six_digit_codes_keep_their_leading_zeros_through_the_real_verifier() {
        let rows = [
            (59, "287082"),
            (1111111109, "081804"),
            (1111111111, "050471"),
            (1234567890, "005924"),
            (2000000000, "279037"),
            (20000000000, "353130"),
        ];
        for (t, code) in rows {
            assert_eq!(code_at_step(SEED_SHA1, t / 30), code);
            assert_eq!(matching_step(SEED_SHA1, code, t, 0), Some(t / 30), "at {t}");
        }
        assert_eq!(matching_step(SEED_SHA1, "81804", 1111111109, 1), None, "5 digits");
    }

    #[test]
    fn the_window_is_one_step_either_side_and_no_more() {
        let now = 1_234_567_890;
        let step = now / 30;
        for (offset, accepted) in [(-2i64, false), (-1, true), (0, true), (1, true), (2, false)] {
            let s = (step as i64 + offset) as u64;
            let code = code_at_step(SEED_SHA1, s);
            assert_eq!(matching_step(SEED_SHA1, &code, now, 1) == Some(s), accepted, "offset {offset}");
        }
    }

    #[test]
    fn malformed_codes_never_match() {
        let now = 59;
        for bad in ["", "28708", "2870820", "287 082", "+28708", "٠١٢٣٤٥", "28708a", "287082\n"] {
            assert_eq!(matching_step(SEED_SHA1, bad, now, 1), None, "{bad:?}");
        }
    }

    #[test]
    fn otpauth_urls_follow_speakeasy() {
        let url = otpauth_url("Rocket.Chat", "alice", SEED_SHA1);
        assert_eq!(url, "otpauth://totp/Rocket.Chat%3Aalice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }

    #[test]
    fn backup_codes_are_twelve_distinct_eight_character_codes() {
        let codes = generate_backup_codes();
        assert_eq!(codes.len(), 12);
        assert!(codes.iter().all(|c| c.len() == 8));
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 12);
    }
}
