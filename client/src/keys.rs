//! Keypair files in the Solana CLI's format: a JSON array of the 64 bytes of the secret and
//! public key. The CLI, the worker and the local validator read and write them here.
use std::path::{Path, PathBuf};

use solana_keypair::Keypair;

use crate::error::ClientError;
use crate::paths::expand_home;

/// Reads the keypair file at `path` (`~` expanded). The error names the file and what is
/// wrong with it: missing or unreadable, not a JSON array, not 64 bytes, not a valid key.
pub fn read_keypair(path: &Path) -> Result<Keypair, ClientError> {
    let path = expand_home(path);
    let fail = |reason: String| ClientError::Keypair {
        path: path.clone(),
        reason,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| fail(e.to_string()))?;
    solana_keypair::read_keypair(&mut text.as_bytes()).map_err(|e| fail(e.to_string()))
}

/// Writes `key` to `path` as the Solana CLI does (creating the parent directories; on Unix the
/// file is readable by its owner only).
pub fn write_keypair(path: &Path, key: &Keypair) -> Result<(), ClientError> {
    solana_keypair::write_keypair_file(key, path)
        .map(|_| ())
        .map_err(|e| ClientError::Keypair {
            path: PathBuf::from(path),
            reason: format!("cannot write it: {e}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_signer::Signer;

    fn reason(path: &Path) -> String {
        match read_keypair(path) {
            Err(ClientError::Keypair { path: p, reason }) => {
                assert_eq!(p, path, "the error names the file");
                let shown = ClientError::Keypair {
                    path: p,
                    reason: reason.clone(),
                }
                .to_string();
                assert!(shown.contains(&path.display().to_string()), "{shown}");
                reason
            }
            Err(other) => panic!("not a keypair error: {other}"),
            Ok(_) => panic!("{} was read as a keypair", path.display()),
        }
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/id.json");
        let key = Keypair::new();
        write_keypair(&path, &key).unwrap();
        let back = read_keypair(&path).unwrap();
        assert_eq!(back.pubkey(), key.pubkey());
        assert_eq!(back.to_bytes(), key.to_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "mode {mode:o}: others can read the secret");
        }
    }

    #[test]
    fn missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let r = reason(&dir.path().join("nope.json"));
        assert!(r.contains("No such file"), "{r}");
    }

    #[test]
    fn not_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id.json");
        std::fs::write(&path, "not a keypair").unwrap();
        let r = reason(&path);
        assert!(r.contains("JSON array"), "{r}");
    }

    #[test]
    fn wrong_length() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id.json");
        std::fs::write(&path, "[1, 2, 3]").unwrap();
        let r = reason(&path);
        assert!(r.contains("64") && r.contains('3'), "{r}");
    }

    #[test]
    fn a_byte_out_of_range() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id.json");
        let mut bytes = Keypair::new().to_bytes().map(u32::from).to_vec();
        bytes[5] = 256;
        std::fs::write(&path, format!("{bytes:?}")).unwrap();
        reason(&path);
    }

    #[test]
    fn a_public_half_that_does_not_match_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id.json");
        let mut bytes = Keypair::new().to_bytes();
        bytes[40] ^= 1;
        std::fs::write(&path, format!("{:?}", bytes.to_vec())).unwrap();
        reason(&path);
    }

    #[test]
    fn a_directory_is_not_a_keypair() {
        let dir = tempfile::tempdir().unwrap();
        reason(dir.path());
    }
}
