//! Default locations on the local machine, the Solana CLI way: the keypair at
//! `~/.config/solana/id.json`, Tessera's local object store under `~/.local/share/tessera`.
//! Paths in configuration files and `TESSERA_*` variables may start with `~`, which
//! [`expand_home`] resolves.
use std::path::{Path, PathBuf};

/// The Solana CLI's default keypair file.
pub const DEFAULT_KEYPAIR: &str = "~/.config/solana/id.json";

/// The default object store of this machine: creators upload inputs to it and operators write
/// results to it unless they name another store.
pub const DEFAULT_STORE: &str = "~/.local/share/tessera/store";

/// The user's home directory (`$HOME`), if it is set and not empty.
pub fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// `path` with a leading `~` (alone or followed by `/`) replaced by `$HOME`; unchanged when it
/// does not start with `~` or when `HOME` is not set.
pub fn expand_home(path: &Path) -> PathBuf {
    let Ok(rest) = path.strip_prefix("~") else {
        return path.to_path_buf();
    };
    match home() {
        Some(home) if rest.as_os_str().is_empty() => home,
        Some(home) => home.join(rest),
        None => path.to_path_buf(),
    }
}

/// [`DEFAULT_KEYPAIR`], `~` expanded.
pub fn default_keypair_path() -> PathBuf {
    expand_home(Path::new(DEFAULT_KEYPAIR))
}

/// [`DEFAULT_STORE`], `~` expanded, as the store location `Store` and `normalize_base` take.
pub fn default_store() -> String {
    expand_home(Path::new(DEFAULT_STORE))
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_home_replaces_only_a_leading_tilde() {
        let Some(home) = home() else {
            // Without HOME nothing is expanded.
            assert_eq!(expand_home(Path::new("~/x")), PathBuf::from("~/x"));
            return;
        };
        assert_eq!(expand_home(Path::new("~")), home);
        assert_eq!(expand_home(Path::new("~/a/b.json")), home.join("a/b.json"));
        // `~user` is not this user's home, and a `~` further on is a plain name.
        assert_eq!(expand_home(Path::new("~bob/x")), PathBuf::from("~bob/x"));
        assert_eq!(
            expand_home(Path::new("/tmp/~/x")),
            PathBuf::from("/tmp/~/x")
        );
        assert_eq!(expand_home(Path::new("rel/x")), PathBuf::from("rel/x"));
    }

    #[test]
    fn defaults_live_under_home() {
        let Some(home) = home() else { return };
        assert_eq!(default_keypair_path(), home.join(".config/solana/id.json"));
        assert_eq!(
            PathBuf::from(default_store()),
            home.join(".local/share/tessera/store")
        );
    }
}
