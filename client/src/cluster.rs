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

/// The websocket URL of a JSON-RPC URL, as the Solana CLI derives it: `ws://` for `http://`,
/// `wss://` for `https://`, and an explicit port one higher (8899 → 8900).
pub fn websocket_url(rpc_url: &str) -> Result<String, ClientError> {
    let bad = || {
        ClientError::bad_input(
            format!("\"{rpc_url}\" is not an http(s):// URL"),
            "pass --url with an http(s):// URL",
        )
    };
    let mut url = url::Url::parse(rpc_url).map_err(|_| bad())?;
    let scheme = match url.scheme() {
        "http" => "ws",
        "https" => "wss",
        _ => return Err(bad()),
    };
    let port = url
        .port()
        .map(|p| p.checked_add(1).ok_or_else(bad))
        .transpose()?;
    url.set_scheme(scheme).map_err(|()| bad())?;
    url.set_port(port).map_err(|()| bad())?;
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// The Wallet Standard chain (`solana:<name>`) of a JSON-RPC URL when its URL tells:
/// the public clusters' URLs, and this machine's.
pub fn chain_of(rpc_url: &str) -> Option<&'static str> {
    let host = url::Url::parse(rpc_url).ok()?.host_str()?.to_string();
    Some(match host.as_str() {
        "api.mainnet-beta.solana.com" => "mainnet",
        "api.devnet.solana.com" => "devnet",
        "api.testnet.solana.com" => "testnet",
        "localhost" | "127.0.0.1" | "[::1]" => "localnet",
        _ => return None,
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
    fn websocket_urls_and_chains() {
        assert_eq!(websocket_url(LOCALHOST).unwrap(), "ws://localhost:8900");
        assert_eq!(
            websocket_url(DEVNET).unwrap(),
            "wss://api.devnet.solana.com"
        );
        assert_eq!(
            websocket_url("https://rpc.example.com:8443/key").unwrap(),
            "wss://rpc.example.com:8444/key"
        );
        assert!(websocket_url("ftp://x").is_err());
        assert!(websocket_url("http://x:65535").is_err());
        assert_eq!(chain_of(MAINNET_BETA), Some("mainnet"));
        assert_eq!(chain_of(DEVNET), Some("devnet"));
        assert_eq!(chain_of(TESTNET), Some("testnet"));
        assert_eq!(chain_of("http://127.0.0.1:8899"), Some("localnet"));
        assert_eq!(chain_of("https://rpc.example.com"), None);
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
