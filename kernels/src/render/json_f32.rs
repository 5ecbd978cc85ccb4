//! Scene numbers read from their JSON text with `str::parse::<f32>()`, which std rounds
//! correctly to the nearest f32 and no Cargo feature can change.
//!
//! serde_json's own float parsing depends on its features (`float_roundtrip`,
//! `arbitrary_precision`), which any crate in a build may turn on; and numbers inside an
//! internally tagged enum pass through serde's buffer as f64 before the cast to f32 (two
//! roundings). Two honest builds could then read one scene as different f32 values and render
//! different images. So every f32 of a scene is taken here from the number's own text
//! ([`RawValue`]), and the material enum is read by hand ([`super::scene::Material`]).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// The f32 nearest to the JSON number `text` (a token of valid JSON).
pub fn parse_f32(text: &str) -> Result<f32, String> {
    let t = text.trim();
    if !t.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        return Err(format!("expected a number, found {t}"));
    }
    t.parse::<f32>()
        .map_err(|e| format!("the number {t} cannot be read: {e}"))
}

/// The tokens of a JSON value made of arrays and numbers.
#[derive(Debug, PartialEq)]
enum Token<'a> {
    Open,
    Close,
    Number(&'a str),
}

fn tokens(text: &str) -> Result<Vec<Token<'_>>, String> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'[' => out.push(Token::Open),
            b']' => out.push(Token::Close),
            b',' | b' ' | b'\t' | b'\n' | b'\r' => {}
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i + 1 < b.len()
                    && matches!(b[i + 1], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                out.push(Token::Number(&text[start..=i]));
            }
            _ => return Err(format!("expected numbers, found {}", text.trim())),
        }
        i += 1;
    }
    Ok(out)
}

/// `[x, y, z]` from `tokens[at..]`; returns the vector and the index after it.
fn triple(tokens: &[Token<'_>], at: usize) -> Result<([f32; 3], usize), String> {
    let err = || "expected an array of 3 numbers".to_string();
    match tokens.get(at..at + 5) {
        Some([Token::Open, Token::Number(x), Token::Number(y), Token::Number(z), Token::Close]) => {
            Ok(([parse_f32(x)?, parse_f32(y)?, parse_f32(z)?], at + 5))
        }
        _ => Err(err()),
    }
}

fn raw<'de, D: Deserializer<'de>>(d: D) -> Result<Box<RawValue>, D::Error> {
    Box::<RawValue>::deserialize(d)
}

/// `deserialize_with` for an f32.
pub fn f32<'de, D: Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    let r = raw(d)?;
    parse_f32(r.get()).map_err(D::Error::custom)
}

/// `deserialize_with` for an `[f32; 3]`.
pub fn vec3<'de, D: Deserializer<'de>>(d: D) -> Result<[f32; 3], D::Error> {
    let r = raw(d)?;
    vec3_text(r.get()).map_err(D::Error::custom)
}

pub(crate) fn vec3_text(text: &str) -> Result<[f32; 3], String> {
    let t = tokens(text)?;
    match triple(&t, 0)? {
        (v, end) if end == t.len() => Ok(v),
        _ => Err("expected an array of 3 numbers".into()),
    }
}

/// `deserialize_with` for a `Vec<[f32; 3]>` (read as one value, not one allocation per
/// number).
pub fn vec3s<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[f32; 3]>, D::Error> {
    let r = raw(d)?;
    vec3s_text(r.get()).map_err(D::Error::custom)
}

fn vec3s_text(text: &str) -> Result<Vec<[f32; 3]>, String> {
    let t = tokens(text)?;
    let err = || "expected an array of arrays of 3 numbers".to_string();
    if t.first() != Some(&Token::Open) || t.last() != Some(&Token::Close) {
        return Err(err());
    }
    let mut out = Vec::with_capacity(t.len() / 5);
    let mut at = 1;
    while at < t.len() - 1 {
        let (v, next) = triple(&t, at).map_err(|_| err())?;
        out.push(v);
        at = next;
    }
    // The last `]` must close the outer array, not the last triple.
    if at != t.len() - 1 {
        return Err(err());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decimal strings that serde_json without `float_roundtrip` reads one way (three
    /// roundings: 0x43065f76, 0x4453dbdb, 0x41e2db88) and a correctly rounding parser another
    /// (one rounding, the bits below: 134.37290954589844, 847.435302734375,
    /// 28.357194900512695). The f32 must be the correctly rounded one, whatever the features
    /// of serde_json in the build.
    pub(crate) const D1: [(&str, u32); 3] = [
        ("134.37290191650391", 0x4306_5f77),
        ("847.43527221679688", 0x4453_dbdc),
        ("28.35719394683838", 0x41e2_db89),
    ];

    #[test]
    fn numbers_are_correctly_rounded() {
        for (text, want) in D1 {
            assert_eq!(parse_f32(text).unwrap().to_bits(), want, "{text}");
        }
        assert_eq!(parse_f32("-0").unwrap().to_bits(), (-0.0f32).to_bits());
        assert_eq!(parse_f32("1E+2").unwrap(), 100.0);
        assert_eq!(parse_f32("1e39").unwrap(), f32::INFINITY);
    }

    #[test]
    fn non_numbers_are_refused() {
        for bad in ["\"1.5\"", "null", "true", "{}", "[1]"] {
            assert!(parse_f32(bad).is_err(), "{bad}");
        }
        for bad in [
            "[1, 2]",
            "[1, 2, 3, 4]",
            "[[1, 2, 3]]",
            "[1, \"2\", 3]",
            "3",
            "[1,2,3]]",
        ] {
            assert!(vec3_text(bad).is_err(), "{bad}");
        }
        for bad in [
            "[[1, 2, 3], [4, 5]]",
            "[1, 2, 3]",
            "[[1, 2, 3], 4]",
            "[[1, 2, 3], [4, 5, 6]",
        ] {
            assert!(vec3s_text(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn arrays_are_read_number_by_number() {
        assert_eq!(vec3_text(" [ 1 , -2.5e1,3 ] ").unwrap(), [1.0, -25.0, 3.0]);
        assert_eq!(vec3s_text("[]").unwrap(), Vec::<[f32; 3]>::new());
        let text = format!("[[{}, 0, 1], [2, {}, {}]]", D1[0].0, D1[1].0, D1[2].0);
        let f = |i: usize| f32::from_bits(D1[i].1);
        assert_eq!(
            vec3s_text(&text).unwrap(),
            vec![[f(0), 0.0, 1.0], [2.0, f(1), f(2)]]
        );
    }
}
