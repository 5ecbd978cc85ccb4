//! Token movements. Every transfer and burn is a CPI into the mint's token program (SPL Token
//! or Token-2022), signed by the PDA that owns the source: a job for its escrow, the market for
//! the stake vault. Zero amounts are skipped.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Burn, CloseAccount, TransferChecked};

/// The token program and mint every movement of a market uses.
pub struct Tokens<'info> {
    pub program: AccountInfo<'info>,
    pub mint: AccountInfo<'info>,
    pub decimals: u8,
}

impl<'info> Tokens<'info> {
    pub fn transfer(
        &self,
        from: &AccountInfo<'info>,
        to: &AccountInfo<'info>,
        authority: &AccountInfo<'info>,
        signer_seeds: &[&[&[u8]]],
        amount: u64,
    ) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        let accounts = TransferChecked {
            from: from.clone(),
            mint: self.mint.clone(),
            to: to.clone(),
            authority: authority.clone(),
        };
        token_interface::transfer_checked(
            CpiContext::new_with_signer(self.program.key(), accounts, signer_seeds),
            amount,
            self.decimals,
        )
    }

    pub fn burn(
        &self,
        from: &AccountInfo<'info>,
        authority: &AccountInfo<'info>,
        signer_seeds: &[&[&[u8]]],
        amount: u64,
    ) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        let accounts = Burn {
            mint: self.mint.clone(),
            from: from.clone(),
            authority: authority.clone(),
        };
        token_interface::burn(
            CpiContext::new_with_signer(self.program.key(), accounts, signer_seeds),
            amount,
        )
    }

    /// Closes an empty token account; its rent goes to `destination`.
    pub fn close(
        &self,
        account: &AccountInfo<'info>,
        destination: &AccountInfo<'info>,
        authority: &AccountInfo<'info>,
        signer_seeds: &[&[&[u8]]],
    ) -> Result<()> {
        let accounts = CloseAccount {
            account: account.clone(),
            destination: destination.clone(),
            authority: authority.clone(),
        };
        token_interface::close_account(CpiContext::new_with_signer(
            self.program.key(),
            accounts,
            signer_seeds,
        ))
    }
}
