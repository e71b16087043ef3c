//! Randomness from the operating system's CSPRNG, and identifiers built from it.

/// Fills `buf` from the OS CSPRNG. Without it no secret can be made safely, so failure aborts.
pub fn fill(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the operating system's random number generator failed");
}

/// Rocket.Chat's id alphabet (Meteor `Random.id`): no 0/1/O/I/l/V/U look-alikes.
pub const ID_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz";

/// A random string over `ID_ALPHABET`, unbiased (rejection sampling).
pub fn id_of_length(len: usize) -> String {
    let n = ID_ALPHABET.len(); // 55
    let limit = 256 - (256 % n); // bytes at or above this would bias the result
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        fill(&mut buf);
        for &b in &buf {
            if (b as usize) < limit && out.len() < len {
                out.push(ID_ALPHABET[b as usize % n] as char);
            }
        }
    }
    out
}

/// A user id as Rocket.Chat makes them: 17 characters.
pub fn user_id() -> String {
    id_of_length(17)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_have_17_chars_from_the_alphabet() {
        for _ in 0..1000 {
            let id = user_id();
            assert_eq!(id.len(), 17);
            assert!(id.bytes().all(|b| ID_ALPHABET.contains(&b)), "{id}");
        }
    }
}
