//! Token amounts as people write them: `"1.5"` with the mint's decimals ↔ base units.
use crate::error::ClientError;

/// Parses a decimal amount (`"12"`, `"1.5"`, `"0.000001"`) into base units of a mint with
/// `decimals` decimals. Refuses more fractional digits than the mint has, signs, exponents,
/// empty input and amounts that do not fit in a `u64`.
pub fn parse_amount(text: &str, decimals: u8) -> Result<u64, ClientError> {
    let bad = |why: &str| {
        ClientError::bad_input(
            format!("\"{text}\" is not a token amount: {why}"),
            format!("write a plain decimal number such as 1.5 (at most {decimals} decimals)"),
        )
    };
    let t = text.trim().replace('_', "");
    let (whole, frac) = match t.split_once('.') {
        Some((w, f)) => (w, f),
        None => (t.as_str(), ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return Err(bad("it is empty"));
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad("only digits and one decimal point are allowed"));
    }
    if frac.len() > decimals as usize {
        return Err(bad(&format!("the mint has only {decimals} decimals")));
    }
    let scale = 10u64
        .checked_pow(decimals as u32)
        .ok_or_else(|| bad("the mint has too many decimals"))?;
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad("it is too large"))?
    };
    let frac_units: u64 = if frac.is_empty() {
        0
    } else {
        let padded = format!("{frac:0<width$}", width = decimals as usize);
        padded.parse().map_err(|_| bad("it is too large"))?
    };
    whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(frac_units))
        .ok_or_else(|| bad("it is too large"))
}

/// Formats base units as a decimal amount with the mint's decimals, without trailing zeros
/// (`1_500_000` with 6 decimals is `"1.5"`).
pub fn format_amount(units: u64, decimals: u8) -> String {
    if decimals == 0 {
        return units.to_string();
    }
    let digits = format!("{units:0>width$}", width = decimals as usize + 1);
    let (whole, frac) = digits.split_at(digits.len() - decimals as usize);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_decimal_amounts() {
        assert_eq!(parse_amount("1.5", 6).unwrap(), 1_500_000);
        assert_eq!(parse_amount("12", 6).unwrap(), 12_000_000);
        assert_eq!(parse_amount("0.000001", 6).unwrap(), 1);
        assert_eq!(parse_amount(".5", 2).unwrap(), 50);
        assert_eq!(parse_amount("7.", 2).unwrap(), 700);
        assert_eq!(parse_amount(" 1_000 ", 0).unwrap(), 1000);
        assert_eq!(parse_amount("0", 9).unwrap(), 0);
        assert_eq!(parse_amount("18446744073709.551615", 6).unwrap(), u64::MAX);
    }

    #[test]
    fn refuses_what_is_not_an_amount() {
        for bad in [
            "",
            ".",
            "-1",
            "+1",
            "1e6",
            "1.2.3",
            "abc",
            "1,5",
            "0.0000001",
        ] {
            let e = parse_amount(bad, 6).unwrap_err();
            assert!(matches!(e, ClientError::BadInput { .. }), "{bad}: {e}");
        }
        assert!(parse_amount("18446744073709.551616", 6).is_err());
        assert!(parse_amount("99999999999999999999", 0).is_err());
        assert!(parse_amount("1.5", 0)
            .unwrap_err()
            .to_string()
            .contains("0 decimals"));
    }

    #[test]
    fn formats_without_trailing_zeros() {
        assert_eq!(format_amount(1_500_000, 6), "1.5");
        assert_eq!(format_amount(12_000_000, 6), "12");
        assert_eq!(format_amount(1, 6), "0.000001");
        assert_eq!(format_amount(0, 6), "0");
        assert_eq!(format_amount(1000, 0), "1000");
        assert_eq!(format_amount(u64::MAX, 6), "18446744073709.551615");
    }

    #[test]
    fn round_trips() {
        for (units, d) in [
            (0u64, 6u8),
            (1, 9),
            (123_456_789, 3),
            (u64::MAX, 19),
            (5, 0),
        ] {
            assert_eq!(parse_amount(&format_amount(units, d), d).unwrap(), units);
        }
    }
}
