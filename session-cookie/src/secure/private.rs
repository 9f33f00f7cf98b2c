//! AES-256-GCM sealing of a cookie payload: `nonce || ciphertext || tag`, with the cookie
//! name as associated data so a value cannot be moved to another cookie.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, Nonce, Tag};

use super::{OpenError, SealError};

/// A 96-bit nonce, drawn from the OS random source for every cookie.
pub(crate) const NONCE_LEN: usize = 12;
/// The GCM authentication tag.
pub(crate) const TAG_LEN: usize = 16;

/// Encrypts `plaintext` under a fresh random nonce.
pub(crate) fn encrypt(
    cipher: &Aes256Gcm,
    name: &str,
    plaintext: &[u8],
) -> Result<Vec<u8>, SealError> {
    let mut nonce = [0_u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(SealError::Random)?;
    let mut sealed = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(plaintext);
    let tag = cipher
        .encrypt_in_place_detached(
            Nonce::from_slice(&nonce),
            name.as_bytes(),
            &mut sealed[NONCE_LEN..],
        )
        .map_err(SealError::Encrypt)?;
    sealed.extend_from_slice(&tag);
    Ok(sealed)
}

/// Decrypts what [`encrypt`] produced for the same cookie name.
pub(crate) fn decrypt(cipher: &Aes256Gcm, name: &str, sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(OpenError::Malformed("encrypted payload is too short"));
    }
    let (nonce, rest) = sealed.split_at(NONCE_LEN);
    let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
    let mut plaintext = ciphertext.to_vec();
    cipher
        .decrypt_in_place_detached(
            Nonce::from_slice(nonce),
            name.as_bytes(),
            &mut plaintext,
            Tag::from_slice(tag),
        )
        .map_err(OpenError::Decrypt)?;
    Ok(plaintext)
}
