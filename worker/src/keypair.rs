//! The operator's keypair file, in the Solana CLI's format (a JSON array of 64 bytes).
use std::path::Path;

use solana_keypair::Keypair;

use crate::error::WorkerError;

/// Reads a Solana CLI keypair file; the error names the file and what is wrong with it.
pub fn read_keypair(path: &Path) -> Result<Keypair, WorkerError> {
    let fail = |reason: String| WorkerError::Keypair {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let bytes: Vec<u8> = serde_json::from_str(&text).map_err(|e| fail(e.to_string()))?;
    Keypair::try_from(bytes.as_slice()).map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_signer::Signer;

    #[test]
    fn reads_a_cli_keypair_and_names_a_bad_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id.json");
        let key = Keypair::new();
        std::fs::write(&path, format!("{:?}", key.to_bytes().to_vec())).unwrap();
        assert_eq!(read_keypair(&path).unwrap().pubkey(), key.pubkey());

        std::fs::write(&path, "[1, 2, 3]").unwrap();
        let e = read_keypair(&path).unwrap_err();
        assert!(
            matches!(&e, WorkerError::Keypair { path: p, .. } if p == &path),
            "{e}"
        );
        let e = read_keypair(&dir.path().join("absent.json")).unwrap_err();
        assert!(e.to_string().contains("absent.json"), "{e}");
    }
}
