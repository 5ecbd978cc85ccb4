//! Cluster URLs the Solana CLI way: `localhost`/`l`, `devnet`/`d`, `testnet`/`t`,
//! `mainnet-beta`/`m`, or any `http(s)://` URL.
use crate::error::ClientError;

pub const LOCALHOST: &str = "http://localhost:8899";
pub const DEVNET: &str = "https://api.devnet.solana.com";
pub const TESTNET: &str = "https://api.testnet.solana.com";
pub const MAINNET_BETA: &str = "https://api.mainnet-beta.solana.com";

/// The JSON-RPC URL a `--url` value names.
pub fn resolve_url(url: &str) -> Result<String, ClientError> {
    Ok(match url.trim() {
        "localhost" | "l" => LOCALHOST.to_string(),
        "devnet" | "d" => DEVNET.to_string(),
        "testnet" | "t" => TESTNET.to_string(),
        "mainnet-beta" | "m" => MAINNET_BETA.to_string(),
        u if (u.starts_with("http://") || u.starts_with("https://"))
            && url::Url::parse(u).is_ok_and(|p| p.host().is_some()) =>
        {
            u.to_string()
        }
        other => {
            return Err(ClientError::bad_input(
                format!("\"{other}\" is not a cluster"),
                "pass --url localhost, devnet, testnet, mainnet-beta (or l, d, t, m) or an http(s):// URL",
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorthands_and_urls() {
        assert_eq!(resolve_url("l").unwrap(), LOCALHOST);
        assert_eq!(resolve_url("localhost").unwrap(), LOCALHOST);
        assert_eq!(resolve_url("d").unwrap(), DEVNET);
        assert_eq!(resolve_url("devnet").unwrap(), DEVNET);
        assert_eq!(resolve_url("t").unwrap(), TESTNET);
        assert_eq!(resolve_url("m").unwrap(), MAINNET_BETA);
        assert_eq!(resolve_url("mainnet-beta").unwrap(), MAINNET_BETA);
        assert_eq!(
            resolve_url("http://127.0.0.1:8899").unwrap(),
            "http://127.0.0.1:8899"
        );
        assert_eq!(
            resolve_url("https://rpc.example.com/key").unwrap(),
            "https://rpc.example.com/key"
        );
    }

    #[test]
    fn refuses_unknown_names() {
        for bad in [
            "",
            "mainnet",
            "x",
            "ftp://host",
            "localhost:8899",
            "http://",
        ] {
            let e = resolve_url(bad).unwrap_err();
            assert!(e.to_string().contains("--url"), "{bad}: {e}");
        }
    }
}
