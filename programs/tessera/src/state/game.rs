use crate::constants::{MAX_CHALLENGERS, MAX_REPLICAS};
use anchor_lang::prelude::*;
use tessera_int8::model::{HEADER_FIXED_BYTES, LAYER_HEADER_BYTES, MAX_LAYERS};

/// Largest model header (`tessera_int8::model::Header`), in bytes.
pub const MAX_HEADER_BYTES: usize = HEADER_FIXED_BYTES + MAX_LAYERS * LAYER_HEADER_BYTES;

/// Whose move a game waits for, and which.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum GamePhase {
    /// The defender posts its row chain (`post_chain`).
    AwaitChain,
    /// The accuser picks the layer it says is wrong (`pick_layer`).
    AwaitPick,
    /// The defender reveals its rows around the picked layer (`reveal_rows`).
    AwaitRows,
    /// The accuser proves one element of the picked layer wrong (`prove_step`).
    AwaitProof,
}

impl GamePhase {
    pub fn from_u8(byte: u8) -> Self {
        match byte {
            0 => Self::AwaitChain,
            1 => Self::AwaitPick,
            2 => Self::AwaitRows,
            _ => Self::AwaitProof,
        }
    }

    /// Whether the defender owes the move.
    pub fn defender_moves(self) -> bool {
        matches!(self, Self::AwaitChain | Self::AwaitRows)
    }
}

/// One accusation (DESIGN §2.7): a replica whose root differs, or a verifier that challenged a
/// chunk of the root the replicas agreed on, says slot `defender`'s output row `row` of an
/// int8 model is wrong. Batch rows are independent
/// through every layer, so that row is the end of a chain of one row per layer; the defender
/// posts the hashes of its chain, the accuser picks the first link it says is wrong, the
/// defender reveals the two rows of that link, and the accuser proves one element of it wrong:
/// one dot product the program re-executes with `tessera_int8::element`. A party that does not
/// move by `deadline` loses (anyone may end the game then). PDA
/// `[GAME_SEED, job, [defender slot], [accuser id]]`; its rent comes back to the accuser when
/// it ends.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Game {
    pub job: Pubkey,
    /// The accuser's operator authority: signs its moves, gets the rent back.
    pub accuser: Pubkey,
    /// The defender's operator authority: signs its moves, gets its revealed rows' buffer
    /// back.
    pub defender: Pubkey,
    /// The buffer holding the revealed rows, locked to this game (its authority is the game)
    /// until the game ends; the default key before `reveal_rows`.
    pub rows_buffer: Pubkey,
    /// The model's input-row root and layer roots (only the first `layer_count` are used).
    pub input_root: [u8; 32],
    pub layer_roots: [[u8; 32]; MAX_LAYERS],
    /// The defender's hashes of its rows after layers 1 .. L−1 (`chain[j − 1]` is layer `j`'s
    /// output row, `sha256(0x00 ‖ row)`); only the first `layer_count − 1` are used.
    pub chain: [[u8; 32]; MAX_LAYERS - 1],
    /// When the party to move loses.
    pub deadline: i64,
    /// The accused row of the model's batch (not of a chunk).
    pub row: u32,
    /// The model's header bytes (`tessera_int8::model::Header`), `header_len` of them.
    pub header: [u8; MAX_HEADER_BYTES],
    pub header_len: u8,
    pub layer_count: u8,
    pub defender_slot: u8,
    /// The accuser: a slot (`0 .. MAX_REPLICAS`), or a challenger (`MAX_REPLICAS` + the
    /// challenge's index); see [`Accuser`](crate::instructions::Accuser).
    pub accuser_id: u8,
    /// A [`GamePhase`].
    pub phase: u8,
    /// The layer the accuser picked (1 ..= `layer_count`), 0 before.
    pub layer: u8,
    pub bump: u8,
    /// Hashes of the chunk's leaf proof after the revealed rows (last layer only).
    pub leaf_proof_len: u8,
    pub padding: [u8; 3],
}

/// Account size of a game, discriminator included.
pub const GAME_SPACE: usize = 8 + std::mem::size_of::<Game>();
const _: () = assert!(
    (MAX_REPLICAS as u32) * (MAX_REPLICAS + MAX_CHALLENGERS) as u32 <= 32,
    "Job::games_played packs every (defender, accuser) pair in 32 bits"
);

impl Game {
    pub fn phase(&self) -> GamePhase {
        GamePhase::from_u8(self.phase)
    }

    pub fn header_bytes(&self) -> &[u8] {
        &self.header[..self.header_len as usize]
    }

    /// The defender's row hashes, layers 1 .. L−1.
    pub fn chain(&self) -> &[[u8; 32]] {
        &self.chain[..(self.layer_count as usize).saturating_sub(1)]
    }

    pub fn layer_roots(&self) -> &[[u8; 32]] {
        &self.layer_roots[..self.layer_count as usize]
    }
}
