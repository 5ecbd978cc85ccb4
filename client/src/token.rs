//! The few SPL Token (and Token-2022) facts the client needs, read straight from account data
//! (the base layout is the same in both programs), and associated token addresses.
use anchor_lang::prelude::Pubkey;
use solana_account::Account;

/// SPL Token (the id the program's token interface accepts).
pub const TOKEN_PROGRAM_ID: Pubkey = anchor_spl::token::ID;
/// Token-2022.
pub const TOKEN_2022_PROGRAM_ID: Pubkey = anchor_spl::token_2022::ID;
/// The associated token account program.
pub const ASSOCIATED_TOKEN_PROGRAM_ID: Pubkey =
    anchor_lang::pubkey!("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");

/// The base fields of a token account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenAccount {
    pub mint: Pubkey,
    pub owner: Pubkey,
    pub amount: u64,
}

impl TokenAccount {
    /// Reads a token account of either token program.
    pub fn from_account(account: &Account) -> Option<Self> {
        if !is_token_program(&account.owner) || account.data.len() < 165 {
            return None;
        }
        let d = &account.data;
        Some(TokenAccount {
            mint: Pubkey::new_from_array(d[0..32].try_into().ok()?),
            owner: Pubkey::new_from_array(d[32..64].try_into().ok()?),
            amount: u64::from_le_bytes(d[64..72].try_into().ok()?),
        })
    }
}

/// The decimals of a mint account of either token program.
pub fn mint_decimals(account: &Account) -> Option<u8> {
    if !is_token_program(&account.owner) || account.data.len() < 82 {
        return None;
    }
    account.data.get(44).copied()
}

/// The supply of a mint account of either token program.
pub fn mint_supply(account: &Account) -> Option<u64> {
    if !is_token_program(&account.owner) || account.data.len() < 82 {
        return None;
    }
    Some(u64::from_le_bytes(account.data[36..44].try_into().ok()?))
}

pub fn is_token_program(key: &Pubkey) -> bool {
    *key == TOKEN_PROGRAM_ID || *key == TOKEN_2022_PROGRAM_ID
}

/// The associated token account of `owner` for `mint` under `token_program`.
pub fn associated_token_address(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[owner.as_ref(), token_program.as_ref(), mint.as_ref()],
        &ASSOCIATED_TOKEN_PROGRAM_ID,
    )
    .0
}

/// Creates `owner`'s associated token account for `mint` unless it already exists, paid by
/// `payer` (the associated token program's own instruction).
pub fn create_associated_token_account_idempotent(
    payer: &Pubkey,
    owner: &Pubkey,
    mint: &Pubkey,
    token_program: &Pubkey,
) -> anchor_lang::solana_program::instruction::Instruction {
    anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent(
        payer,
        owner,
        mint,
        token_program,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_ids_are_the_token_programs() {
        assert_eq!(
            TOKEN_PROGRAM_ID.to_string(),
            "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
        );
        assert_eq!(
            TOKEN_2022_PROGRAM_ID.to_string(),
            "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
        );
        assert!(is_token_program(&TOKEN_2022_PROGRAM_ID));
        assert!(!is_token_program(&Pubkey::default()));
    }

    #[test]
    fn reads_token_accounts_and_mints() {
        let mint = Pubkey::new_from_array([1; 32]);
        let owner = Pubkey::new_from_array([2; 32]);
        let mut data = vec![0u8; 165];
        data[0..32].copy_from_slice(mint.as_ref());
        data[32..64].copy_from_slice(owner.as_ref());
        data[64..72].copy_from_slice(&42u64.to_le_bytes());
        let acc = Account {
            lamports: 1,
            data,
            owner: TOKEN_PROGRAM_ID,
            executable: false,
            rent_epoch: 0,
        };
        assert_eq!(
            TokenAccount::from_account(&acc),
            Some(TokenAccount {
                mint,
                owner,
                amount: 42
            })
        );
        let mut mint_data = vec![0u8; 82];
        mint_data[44] = 6;
        let m = Account {
            data: mint_data,
            ..acc.clone()
        };
        assert_eq!(mint_decimals(&m), Some(6));
        let mut with_supply = m.clone();
        with_supply.data[36..44].copy_from_slice(&1_000u64.to_le_bytes());
        assert_eq!(mint_supply(&with_supply), Some(1_000));
        let foreign = Account {
            owner: Pubkey::default(),
            ..acc
        };
        assert_eq!(TokenAccount::from_account(&foreign), None);
    }
}
