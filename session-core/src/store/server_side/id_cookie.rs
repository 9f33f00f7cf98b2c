//! The cookie value of a server-side session: the id, signed when keys are configured.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::keys::KeyRing;
use crate::store::SessionId;

/// 16 bytes of HMAC-SHA256: 128 bits, as much forgery resistance as the id itself needs.
const TAG_BYTES: usize = 16;

/// The cookie value for `id`: the bare id, or `id.tag` with a MAC over the cookie name and
/// the id when `keys` are set.
pub(crate) fn encode(id: &SessionId, cookie_name: &str, keys: Option<&KeyRing>) -> String {
    match keys {
        None => id.as_str().to_owned(),
        Some(keys) => {
            let tag = keys
                .signing()
                .sign(&[cookie_name.as_bytes(), id.as_str().as_bytes()]);
            format!(
                "{}.{}",
                id.as_str(),
                URL_SAFE_NO_PAD.encode(&tag[..TAG_BYTES])
            )
        }
    }
}

/// The id in a cookie value, if it is well formed and (with `keys`) carries a valid tag
/// from any key of the ring. Anything else is `None`: the visitor is anonymous.
pub(crate) fn decode(value: &str, cookie_name: &str, keys: Option<&KeyRing>) -> Option<SessionId> {
    match keys {
        None => SessionId::parse(value).ok(),
        Some(keys) => {
            let (id, tag) = value.rsplit_once('.')?;
            let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
            // Exactly the tag `encode` writes: `Key::verify` also accepts longer prefixes of
            // the MAC, so a cookie with a character appended (a 17th byte that happens to
            // match, 1 in 256) would otherwise name the same session.
            if tag.len() != TAG_BYTES {
                return None;
            }
            let id = SessionId::parse(id).ok()?;
            let parts: [&[u8]; 2] = [cookie_name.as_bytes(), id.as_str().as_bytes()];
            keys.iter()
                .any(|key| key.verify(&parts, &tag))
                .then_some(id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Key;

    #[test]
    fn signed_ids_verify_and_forgeries_do_not() -> Result<(), Box<dyn std::error::Error>> {
        let keys = KeyRing::new(Key::try_from_bytes(&[9; 32])?);
        let id = SessionId::generate()?;
        let value = encode(&id, "session", Some(&keys));
        assert_eq!(decode(&value, "session", Some(&keys)), Some(id.clone()));
        // A longer tag that is still a prefix of the MAC is not this cookie.
        let full = keys
            .signing()
            .sign(&[b"session".as_slice(), id.as_str().as_bytes()]);
        let longer = format!("{}.{}", id.as_str(), URL_SAFE_NO_PAD.encode(&full[..17]));
        assert_eq!(decode(&longer, "session", Some(&keys)), None);
        assert_eq!(
            decode(&value, "other", Some(&keys)),
            None,
            "tag binds the cookie name"
        );
        assert_eq!(
            decode(id.as_str(), "session", Some(&keys)),
            None,
            "unsigned id refused"
        );
        let forged = format!(
            "{}.{}",
            SessionId::generate()?.as_str(),
            &value[id.as_str().len() + 1..]
        );
        assert_eq!(decode(&forged, "session", Some(&keys)), None);
        assert_eq!(decode(id.as_str(), "session", None), Some(id));
        Ok(())
    }

    #[test]
    fn rotated_keys_still_verify() -> Result<(), Box<dyn std::error::Error>> {
        let old = KeyRing::new(Key::try_from_bytes(&[1; 32])?);
        let id = SessionId::generate()?;
        let value = encode(&id, "session", Some(&old));
        let rotated = KeyRing::new(Key::try_from_bytes(&[2; 32])?)
            .with_verifying(Key::try_from_bytes(&[1; 32])?);
        assert_eq!(decode(&value, "session", Some(&rotated)), Some(id));
        Ok(())
    }
}
