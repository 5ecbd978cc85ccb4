//! The referee's game for `mlp-i8` jobs (and `gemm-i8`, one layer): no arbiter. The accuser is
//! a replica whose root differs from the defender's, or a verifier whose chunk challenge
//! disputes the root every replica delivered.
//!
//! Batch rows are independent through every layer, so output row `m` of an L-layer model is the
//! end of a chain `x₀[m] → x₁[m] → … → x_L[m]` of one row per layer, each a function of the one
//! before and the committed weights. A defender whose output row is wrong has a first wrong
//! link `j`: its row `x_{j−1}[m]` is right and one element of `x_j[m]` is not what one dot
//! product and a requantisation give. The game finds that link (DESIGN §2.7):
//!
//! | move | by | what the program checks |
//! |---|---|---|
//! | `open_game(defender, accuser, row, model)` | the accuser: a replica whose root differs, or a challenger (row in its chunk) | the model hashes to the job's model root |
//! | `post_chain(h₁ … h_{L−1})` | the defender | L − 1 hashes (skipped when L = 1) |
//! | `pick_layer(j)` | the accuser | 1 ≤ j ≤ L (skipped when L = 1) |
//! | `reveal_rows` | the defender | its staged `x_{j−1}` (j > 1) and `x_j` (j < L) hash to its chain; for j = L its delivered chunk, proven under its root. The buffer is locked to the game. |
//! | `prove_step(n, …)` | anyone (the accuser) | `x_j[m][n]` differs from `element(x_{j−1}[m], w_n)`, with `x₀[m]` proven under the input root and `w_n` under the layer's root |
//! | `end_game` | anyone | the party to move is past its deadline (the defender loses, or the accusation fails), or the game no longer matters |
//!
//! A conviction is written into `Job::convicted`; it names the defender's slot only (a
//! defender that loses its own game proves nothing about another slot with the same root), so
//! a challenger plays one game per replica, and several accusers play at once (one that loses
//! on purpose shields nobody). `settle_referee` settles the job once the convictions decide it:
//! replicas that disagreed, when the slots left agree (they are the honest parties); a
//! challenged agreed root, when every replica is convicted (the challengers that won are). The
//! money moves as a `resolve_dispute` verdict's would. An honest defender is never convicted
//! while it moves in time: every element of its chain is the model's.
use crate::constants::{GAME_SEED, MAX_PROOF_LEN, MAX_REPLICAS, REFEREE_KERNELS, WHOLE_ROOT};
use crate::error::TesseraError;
use crate::events::{GameEnded, GameOpened, GameOutcome};
use crate::instructions::referee::{agreed_and_challenged, agreeing_rest, disagreeing};
use crate::instructions::resolve_dispute::{challenger_bit, settle_verdict};
use crate::instructions::settlement::*;
use crate::math::add_time;
use crate::state::{
    Game, GamePhase, Job, JobState, Operator, ProofBuffer, BUFFER_DATA_OFFSET, GAME_SPACE,
    MAX_HEADER_BYTES,
};
use anchor_lang::prelude::*;
use tessera_int8::model::{feature_leaf, model_root, Header, MAX_LAYERS};
use tessera_int8::{element, Feature, Quantization};
use tessera_merkle::Hash;

/// Who accuses in a game (signed for by its operator authority).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accuser {
    /// A replica whose revealed root differs from the defender's.
    Slot { slot: u8 },
    /// A verifier whose revealed chunk challenge (its place in commitment order) disputes the
    /// root every replica delivered.
    Challenger { index: u8 },
}

impl Accuser {
    /// Its id in the game's seeds and in `Game::accuser_id`: the slot, or `MAX_REPLICAS` + the
    /// challenge's index.
    pub fn id(self) -> u8 {
        match self {
            Accuser::Slot { slot } => slot,
            Accuser::Challenger { index } => MAX_REPLICAS.saturating_add(index),
        }
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct OpenGameArgs {
    /// The accused slot.
    pub defender_slot: u8,
    pub accuser: Accuser,
    /// The accused output row, in the model's batch.
    pub row: u32,
    /// The model's header, the root of its input rows and its layers' roots: together they
    /// hash to the job's model root (`kernel_params`).
    pub header: Vec<u8>,
    pub input_root: [u8; 32],
    pub layer_roots: Vec<[u8; 32]>,
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: OpenGameArgs)]
pub struct OpenGame<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    /// The accuser's operator account.
    #[account(has_one = authority @ TesseraError::NotOperatorAuthority)]
    pub accuser_operator: Box<Account<'info, Operator>>,
    /// The defender's operator account (its authority is the one that moves for it).
    pub defender_operator: Box<Account<'info, Operator>>,
    #[account(mut)]
    pub job: AccountLoader<'info, Job>,
    #[account(
        init,
        payer = authority,
        space = GAME_SPACE,
        seeds = [GAME_SEED, job.key().as_ref(), &[args.defender_slot], &[args.accuser.id()]],
        bump
    )]
    pub game: AccountLoader<'info, Game>,
    pub system_program: Program<'info, System>,
}

impl OpenGame<'_> {
    /// A disputed job of a refereed kernel, before its dispute deadline, and a defender slot
    /// that is live and not convicted; an accuser that may accuse it:
    /// - a slot: the live slots revealed different roots, the accuser's slot is live, not
    ///   convicted, held by the accuser's operator account, with another root than the
    ///   defender's;
    /// - a challenger: every live slot revealed the agreed root, every challenge is revealed or
    ///   past its reveal deadline, and the accuser's is a revealed chunk challenge, whose chunk
    ///   holds the accused row.
    ///
    /// The pair has not played yet; the model is the job's, and the row one of it.
    pub fn validate(&self, args: &OpenGameArgs) -> Result<()> {
        let job = self.job.load()?;
        job.require_state(JobState::Disputed)?;
        require!(
            REFEREE_KERNELS & (1 << job.kernel) != 0,
            TesseraError::NotRefereeable
        );
        let now = Clock::get()?.unix_timestamp;
        require!(
            now <= job.dispute_deadline,
            TesseraError::DisputeDeadlinePassed
        );
        let live = |i: usize| {
            job.settlement_slots()
                .any(|(k, _)| k == i && job.convicted & (1 << k) == 0)
        };
        let d = args.defender_slot as usize;
        require!(live(d), TesseraError::NotRefereeable);
        require!(
            job.assignments[d].operator == self.defender_operator.key(),
            TesseraError::WrongOperatorAccounts
        );
        let mut chunk = None;
        match args.accuser {
            Accuser::Slot { slot } => {
                let a = slot as usize;
                require!(
                    disagreeing(&job) && a != d && live(a),
                    TesseraError::NotRefereeable
                );
                require!(
                    job.assignments[d].root != job.assignments[a].root,
                    TesseraError::NotRefereeable
                );
                require!(
                    job.assignments[a].operator == self.accuser_operator.key(),
                    TesseraError::NotAssigned
                );
            }
            Accuser::Challenger { index } => {
                require!(agreed_and_challenged(&job), TesseraError::NotRefereeable);
                require!(
                    now > job.challenge_reveal_deadline()?,
                    TesseraError::ChallengeRevealOpen
                );
                let c = job
                    .challenges
                    .get(index as usize)
                    .filter(|c| c.is_revealed() && c.chunk != WHOLE_ROOT)
                    .ok_or(TesseraError::NotRefereeable)?;
                require!(
                    c.challenger == self.accuser_operator.key(),
                    TesseraError::NotAssigned
                );
                chunk = Some(c.chunk);
            }
        }
        require!(
            !job.game_played(args.defender_slot, args.accuser.id()),
            TesseraError::GamePlayed
        );
        let header = Header::from_bytes(&args.header).ok_or(TesseraError::BadModelCommitment)?;
        require!(
            !header.layers.is_empty()
                && header.layers.len() <= MAX_LAYERS
                && header.layers.len() == args.layer_roots.len()
                && model_root(&args.header, &args.input_root, &args.layer_roots)
                    == job.kernel_params,
            TesseraError::BadModelCommitment
        );
        require!(
            header.rows_per_chunk > 0
                && header.rows.div_ceil(header.rows_per_chunk) == job.chunk_count
                && args.row < header.rows
                && chunk.is_none_or(|c| args.row / header.rows_per_chunk == c),
            TesseraError::BadFraudProof
        );
        Ok(())
    }
}

/// Opens the game; the defender's first move is due within the job's reveal window.
pub fn open_game(ctx: Context<OpenGame>, args: OpenGameArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let (market, window) = {
        let mut job = ctx.accounts.job.load_mut()?;
        job.open_games = job
            .open_games
            .checked_add(1)
            .ok_or(TesseraError::MathOverflow)?;
        job.mark_game_played(args.defender_slot, args.accuser.id());
        (job.market, job.terms.reveal_window)
    };
    let mut game = ctx.accounts.game.load_init()?;
    game.job = ctx.accounts.job.key();
    game.accuser = ctx.accounts.authority.key();
    game.defender = ctx.accounts.defender_operator.authority;
    game.input_root = args.input_root;
    game.layer_roots[..args.layer_roots.len()].copy_from_slice(&args.layer_roots);
    game.header[..args.header.len()].copy_from_slice(&args.header);
    const _: () = assert!(MAX_HEADER_BYTES < 256);
    game.header_len = args.header.len() as u8;
    game.layer_count = args.layer_roots.len() as u8;
    game.row = args.row;
    game.defender_slot = args.defender_slot;
    game.accuser_id = args.accuser.id();
    game.bump = ctx.bumps.game;
    game.deadline = add_time(now, window)?;
    // One layer: there is no chain to post and only one link to pick.
    if game.layer_count == 1 {
        game.layer = 1;
        game.phase = GamePhase::AwaitRows as u8;
    } else {
        game.phase = GamePhase::AwaitChain as u8;
    }
    emit_cpi!(GameOpened {
        market,
        job: game.job,
        game: ctx.accounts.game.key(),
        defender_slot: args.defender_slot,
        accuser_id: args.accuser.id(),
        row: args.row,
    });
    Ok(())
}

/// A move by one party of a game: `signer` must be the game's `defender` or `accuser`, as the
/// move requires.
#[derive(Accounts)]
pub struct GameMove<'info> {
    pub signer: Signer<'info>,
    #[account(mut)]
    pub game: AccountLoader<'info, Game>,
}

/// Checks that the game waits for `phase`, in time, from `signer`; returns the job's window
/// for the next move's deadline.
fn require_move(game: &Game, phase: GamePhase, signer: &Pubkey) -> Result<()> {
    require!(game.phase() == phase, TesseraError::WrongGamePhase);
    let party = if phase.defender_moves() {
        game.defender
    } else {
        game.accuser
    };
    require_keys_eq!(*signer, party, TesseraError::NotGameParty);
    require!(
        Clock::get()?.unix_timestamp <= game.deadline,
        TesseraError::GameMoveLate
    );
    Ok(())
}

/// The next move's deadline: the job's reveal window from now.
fn next_deadline(job: &AccountLoader<Job>) -> Result<i64> {
    add_time(
        Clock::get()?.unix_timestamp,
        job.load()?.terms.reveal_window,
    )
}

#[derive(Accounts)]
pub struct PostChain<'info> {
    pub defender: Signer<'info>,
    #[account(mut, has_one = job @ TesseraError::WrongGame)]
    pub game: AccountLoader<'info, Game>,
    pub job: AccountLoader<'info, Job>,
}

/// The defender's row hashes after layers 1 .. L−1 (`sha256(0x00 ‖ row)`).
pub fn post_chain(ctx: Context<PostChain>, chain: Vec<[u8; 32]>) -> Result<()> {
    let deadline = next_deadline(&ctx.accounts.job)?;
    let mut game = ctx.accounts.game.load_mut()?;
    require_move(&game, GamePhase::AwaitChain, &ctx.accounts.defender.key())?;
    require!(
        chain.len() + 1 == game.layer_count as usize,
        TesseraError::BadChain
    );
    game.chain[..chain.len()].copy_from_slice(&chain);
    game.phase = GamePhase::AwaitPick as u8;
    game.deadline = deadline;
    Ok(())
}

#[derive(Accounts)]
pub struct PickLayer<'info> {
    pub accuser: Signer<'info>,
    #[account(mut, has_one = job @ TesseraError::WrongGame)]
    pub game: AccountLoader<'info, Game>,
    pub job: AccountLoader<'info, Job>,
}

/// The accuser names the link it says is wrong: layer `layer` (1 ..= L) of the defender's
/// chain, whose input row it agrees with.
pub fn pick_layer(ctx: Context<PickLayer>, layer: u8) -> Result<()> {
    let deadline = next_deadline(&ctx.accounts.job)?;
    let mut game = ctx.accounts.game.load_mut()?;
    require_move(&game, GamePhase::AwaitPick, &ctx.accounts.accuser.key())?;
    require!(
        layer >= 1 && layer <= game.layer_count,
        TesseraError::BadLayer
    );
    game.layer = layer;
    game.phase = GamePhase::AwaitRows as u8;
    game.deadline = deadline;
    Ok(())
}

#[derive(Accounts)]
pub struct RevealRows<'info> {
    pub defender: Signer<'info>,
    #[account(mut, has_one = job @ TesseraError::WrongGame)]
    pub game: AccountLoader<'info, Game>,
    pub job: AccountLoader<'info, Job>,
    /// The defender's staged rows; locked to the game from here on.
    #[account(mut, constraint = buffer.load()?.authority == defender.key() @ TesseraError::NotBufferAuthority)]
    pub buffer: AccountLoader<'info, ProofBuffer>,
}

/// The shapes of the picked link: bytes of its input row, of its output row, of the output
/// chunk holding the accused row (its rows, when the link is the last layer) and where the row
/// starts in it.
struct Link {
    header: Header,
    /// The picked layer's index (j − 1).
    index: usize,
    last: bool,
    rows_in_chunk: usize,
    /// The accused row's index within its chunk, and the chunk's.
    row_in_chunk: usize,
    chunk: u32,
}

impl Link {
    fn of(game: &Game) -> Result<Link> {
        let header =
            Header::from_bytes(game.header_bytes()).ok_or(TesseraError::BadModelCommitment)?;
        let per_chunk = header.rows_per_chunk;
        let chunk = game.row / per_chunk;
        let first = chunk * per_chunk;
        Ok(Link {
            index: game.layer as usize - 1,
            last: game.layer == game.layer_count,
            rows_in_chunk: per_chunk.min(header.rows - first) as usize,
            row_in_chunk: (game.row - first) as usize,
            chunk,
            header,
        })
    }

    fn k(&self) -> usize {
        self.header.layers[self.index].k as usize
    }

    fn n(&self) -> usize {
        self.header.layers[self.index].n as usize
    }
}

/// The defender reveals the two rows of the picked link from its buffer, laid out as
///
/// ```text
/// x_{j−1} (j > 1) ‖ x_j (j < L) ‖ chunk and its leaf proof (j = L)
/// ```
///
/// each checked against its chain (the chunk: its leaf proven under the defender's root). The
/// buffer is then locked to the game, so the rows stay for the accuser's proof; it goes back to
/// the defender when the game ends.
pub fn reveal_rows(ctx: Context<RevealRows>, leaf_proof_len: u8) -> Result<()> {
    require!(leaf_proof_len <= MAX_PROOF_LEN, TesseraError::BadFraudProof);
    let deadline = next_deadline(&ctx.accounts.job)?;
    let mut game = ctx.accounts.game.load_mut()?;
    require_move(&game, GamePhase::AwaitRows, &ctx.accounts.defender.key())?;
    let link = Link::of(&game)?;
    {
        let job = ctx.accounts.job.load()?;
        let info = ctx.accounts.buffer.to_account_info();
        let data = info.try_borrow_data()?;
        let rows = RevealedRows::read(&data[BUFFER_DATA_OFFSET..], &link, leaf_proof_len)?;
        let chain = game.chain();
        if let Some(x) = rows.x {
            require!(
                tessera_merkle::leaf_hash(x) == chain[link.index - 1],
                TesseraError::BadChain
            );
        }
        if let Some(y) = rows.y {
            require!(
                tessera_merkle::leaf_hash(y) == chain[link.index],
                TesseraError::BadChain
            );
        }
        if let Some((chunk, proof)) = rows.chunk {
            let root = job.assignments[game.defender_slot as usize].root;
            require!(
                tessera_merkle::verify_proof(
                    &root,
                    &tessera_merkle::leaf_hash(chunk),
                    link.chunk,
                    job.chunk_count,
                    proof
                ),
                TesseraError::BadChain
            );
        }
    }
    ctx.accounts.buffer.load_mut()?.authority = ctx.accounts.game.key();
    game.rows_buffer = ctx.accounts.buffer.key();
    game.leaf_proof_len = leaf_proof_len;
    game.phase = GamePhase::AwaitProof as u8;
    game.deadline = deadline;
    Ok(())
}

/// The rows a defender revealed, read in place from its buffer.
struct RevealedRows<'a> {
    /// The link's input row (j > 1).
    x: Option<&'a [u8]>,
    /// The link's output row (j < L).
    y: Option<&'a [u8]>,
    /// The delivered chunk holding the accused row, and its leaf proof (j = L).
    chunk: Option<(&'a [u8], &'a [Hash])>,
}

impl<'a> RevealedRows<'a> {
    fn read(mut rest: &'a [u8], link: &Link, leaf_proof_len: u8) -> Result<Self> {
        let x = (link.index > 0)
            .then(|| take(&mut rest, link.k()))
            .transpose()?;
        let y = (!link.last)
            .then(|| take(&mut rest, link.n()))
            .transpose()?;
        let chunk = if link.last {
            let chunk = take(&mut rest, link.rows_in_chunk * link.n())?;
            let proof = take(&mut rest, 32 * leaf_proof_len as usize)?;
            Some((chunk, bytemuck::cast_slice(proof)))
        } else {
            None
        };
        Ok(Self { x, y, chunk })
    }

    /// The defender's value of output feature `n` of the link.
    fn output(&self, link: &Link, n: usize) -> i8 {
        match (self.y, self.chunk) {
            (Some(y), _) => y[n] as i8,
            (None, Some((chunk, _))) => chunk[link.row_in_chunk * link.n() + n] as i8,
            (None, None) => unreachable!("a link has an output row or a chunk"),
        }
    }
}

/// Splits `n` bytes off the front of `rest`.
fn take<'a>(rest: &mut &'a [u8], n: usize) -> Result<&'a [u8]> {
    require!(rest.len() >= n, TesseraError::BadFraudProof);
    let (head, tail) = rest.split_at(n);
    *rest = tail;
    Ok(head)
}

/// The accounts that end a game: its rent goes back to the accuser, its locked rows buffer
/// (if the defender revealed) to the defender.
#[derive(Accounts)]
pub struct EndGame<'info> {
    #[account(mut)]
    pub job: AccountLoader<'info, Job>,
    #[account(
        mut,
        has_one = job @ TesseraError::WrongGame,
        has_one = accuser @ TesseraError::NotGameParty,
        has_one = defender @ TesseraError::NotGameParty,
        close = accuser
    )]
    pub game: AccountLoader<'info, Game>,
    /// CHECK: the game's accuser (checked by key): receives the game's rent.
    #[account(mut)]
    pub accuser: UncheckedAccount<'info>,
    /// CHECK: the game's defender (checked by key): receives the rows buffer's rent.
    #[account(mut)]
    pub defender: UncheckedAccount<'info>,
    /// The game's locked rows buffer, when the defender revealed them.
    #[account(
        mut,
        constraint = rows_buffer.key() == game.load()?.rows_buffer @ TesseraError::WrongGame,
        close = defender
    )]
    pub rows_buffer: Option<AccountLoader<'info, ProofBuffer>>,
}

impl EndGame<'_> {
    /// The rows buffer is passed exactly when the game holds one.
    fn require_rows_buffer(&self) -> Result<()> {
        require!(
            self.rows_buffer.is_some() == (self.game.load()?.rows_buffer != Pubkey::default()),
            TesseraError::WrongGame
        );
        Ok(())
    }

    /// Writes the game's end into the job (one less game open; the defender's slot convicted
    /// if it lost) and says so.
    fn end(&self, outcome: GameOutcome, convict: bool) -> Result<GameEnded> {
        let game = self.game.load()?;
        let mut job = self.job.load_mut()?;
        job.open_games = job.open_games.saturating_sub(1);
        if convict {
            job.convicted |= 1 << game.defender_slot;
            if let Some(index) = game.accuser_id.checked_sub(MAX_REPLICAS) {
                job.challenge_wins |= 1 << index;
            }
        }
        Ok(GameEnded {
            market: job.market,
            job: game.job,
            game: self.game.key(),
            defender_slot: game.defender_slot,
            accuser_id: game.accuser_id,
            row: game.row,
            layer: game.layer,
            outcome,
            convicted: job.convicted,
        })
    }

    /// The game still decides something: its job is disputed and its defender not convicted.
    fn live(&self) -> Result<bool> {
        let job = self.job.load()?;
        let game = self.game.load()?;
        Ok(job.state() == JobState::Disputed && job.convicted & (1 << game.defender_slot) == 0)
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct StepArgs {
    /// The output feature of the picked layer whose value is wrong.
    pub feature: u32,
    /// The feature's parameters (its leaf holds them after the weight row).
    pub bias: i32,
    pub multiplier: i32,
    pub shift: i32,
    /// Hashes in the staged Merkle proofs of the input row (j = 1) and of the weight row.
    pub input_proof_len: u8,
    pub weight_proof_len: u8,
}

#[event_cpi]
#[derive(Accounts)]
pub struct ProveStep<'info> {
    pub end: EndGame<'info>,
    /// The rest of the proof, laid out as
    /// `x₀ (j = 1) ‖ w (K bytes) ‖ input proof (j = 1) ‖ weight proof` (anyone's: every byte
    /// is checked).
    pub proof_buffer: AccountLoader<'info, ProofBuffer>,
}

/// Proves the picked link wrong: feature `feature` of the defender's revealed output row is not
/// what the model gives for its revealed input row. The defender's slot is convicted and the
/// game ends. Anyone may send it (every byte is checked), before the accuser's deadline.
pub fn prove_step<'info>(ctx: Context<'info, ProveStep<'info>>, args: StepArgs) -> Result<()> {
    let end = &ctx.accounts.end;
    end.require_rows_buffer()?;
    require!(end.live()?, TesseraError::NotRefereeable);
    let (delivered, computed) = {
        let game = end.game.load()?;
        require!(
            game.phase() == GamePhase::AwaitProof,
            TesseraError::WrongGamePhase
        );
        require!(
            Clock::get()?.unix_timestamp <= game.deadline,
            TesseraError::GameMoveLate
        );
        let link = Link::of(&game)?;
        let (k, n) = (link.k(), link.n());
        require!((args.feature as usize) < n, TesseraError::BadFraudProof);
        let rows_info = end
            .rows_buffer
            .as_ref()
            .ok_or(TesseraError::WrongGame)?
            .to_account_info();
        let rows_data = rows_info.try_borrow_data()?;
        let revealed =
            RevealedRows::read(&rows_data[BUFFER_DATA_OFFSET..], &link, game.leaf_proof_len)?;
        let info = ctx.accounts.proof_buffer.to_account_info();
        let data = info.try_borrow_data()?;
        let mut rest = &data[BUFFER_DATA_OFFSET..];
        let first = link.index == 0;
        let staged_x = if first {
            Some(take(&mut rest, k)?)
        } else {
            None
        };
        let w = take(&mut rest, k)?;
        let mut proof = |len: u8| -> Result<&[Hash]> {
            Ok(bytemuck::cast_slice(take(&mut rest, 32 * len as usize)?))
        };
        let input_proof = proof(args.input_proof_len)?;
        let weight_proof = proof(args.weight_proof_len)?;
        let x: &[i8] = bytemuck::cast_slice(match staged_x {
            Some(x) => {
                require!(
                    tessera_merkle::verify_proof(
                        &game.input_root,
                        &tessera_merkle::leaf_hash(x),
                        game.row,
                        link.header.rows,
                        input_proof
                    ),
                    TesseraError::BadFraudProof
                );
                x
            }
            None => revealed.x.ok_or(TesseraError::BadFraudProof)?,
        });
        let w: &[i8] = bytemuck::cast_slice(w);
        let feature = Feature {
            bias: args.bias,
            multiplier: args.multiplier,
            shift: args.shift,
        };
        let layer = link.header.layers[link.index];
        require!(
            tessera_merkle::verify_proof(
                &game.layer_roots[link.index],
                &feature_leaf(w, feature),
                args.feature,
                layer.n,
                weight_proof
            ),
            TesseraError::BadFraudProof
        );
        let computed = element(
            x,
            w,
            feature,
            Quantization {
                input_zero_point: link.header.layer_input_zero_point(link.index),
                output_zero_point: layer.output_zero_point as i32,
                relu: layer.relu,
            },
        );
        let delivered = revealed.output(&link, args.feature as usize);
        require!(delivered != computed, TesseraError::NoFraud);
        (delivered, computed)
    };
    let ended = end.end(
        GameOutcome::Proven {
            feature: args.feature,
            delivered,
            computed,
        },
        true,
    )?;
    emit_cpi!(ended);
    Ok(())
}

/// Ends a game that no longer waits for a move in time (anyone):
/// - its job is no longer disputed, or its defender already convicted: nothing changes;
/// - the defender's move is past its deadline: the defender's slot is convicted;
/// - the accuser's move is past its deadline: the accusation fails, the defender stands.
pub fn end_game<'info>(ctx: Context<'info, EndGameIx<'info>>) -> Result<()> {
    let end = &ctx.accounts.end;
    end.require_rows_buffer()?;
    let (outcome, convict) = if !end.live()? {
        (GameOutcome::Moot, false)
    } else {
        let game = end.game.load()?;
        require!(
            Clock::get()?.unix_timestamp > game.deadline,
            TesseraError::GameNotOver
        );
        let phase = game.phase();
        if phase.defender_moves() {
            (GameOutcome::DefenderSilent { phase: phase as u8 }, true)
        } else {
            (GameOutcome::AccuserSilent { phase: phase as u8 }, false)
        }
    };
    let ended = end.end(outcome, convict)?;
    emit_cpi!(ended);
    Ok(())
}

#[event_cpi]
#[derive(Accounts)]
pub struct EndGameIx<'info> {
    pub end: EndGame<'info>,
}

/// Remaining accounts: the operator account of every live slot in slot order, then every
/// challenger's in commitment order (`Job::party_keys`, as for `resolve_dispute`).
#[event_cpi]
#[derive(Accounts)]
pub struct SettleReferee<'info> {
    pub settlement: JobSettlement<'info>,
    /// CHECK: the market's fee vault (checked by key), where the fee accrues.
    #[account(mut, address = settlement.market.fee_vault @ TesseraError::WrongFeeVault)]
    pub fee_vault: UncheckedAccount<'info>,
    /// CHECK: the market's stake vault (checked by key); the token program checks the rest.
    #[account(mut, address = settlement.market.stake_vault @ TesseraError::WrongStakeVault)]
    pub stake_vault: UncheckedAccount<'info>,
}

impl SettleReferee<'_> {
    /// A disputed job the referee's convictions decide ([`referee_verdict`]).
    pub fn validate(&self) -> Result<()> {
        let job = self.settlement.job.load()?;
        job.require_state(JobState::Disputed)?;
        require!(job.convicted != 0, TesseraError::NotRefereeable);
        require!(
            referee_verdict(&job).is_some(),
            TesseraError::SlotsStillDisagree
        );
        Ok(())
    }
}

/// The verdict (honest, released) the referee's convictions give, once they decide the job:
/// - replicas that disagreed: when the slots not convicted agree (or none is left), they are
///   the honest parties;
/// - replicas that agreed, challenged: when every live slot is convicted, the challengers
///   whose games convicted are the honest parties, the other revealed challengers released.
pub fn referee_verdict(job: &Job) -> Option<(u8, u8)> {
    if disagreeing(job) {
        return agreeing_rest(job, job.convicted).map(|honest| (honest, 0));
    }
    let all_convicted = job
        .settlement_slots()
        .all(|(i, _)| job.convicted & (1 << i) != 0);
    if !agreed_and_challenged(job) || !all_convicted {
        return None;
    }
    let (mut honest, mut released) = (0u8, 0u8);
    for (i, _) in job.challengers().filter(|(_, c)| c.is_revealed()) {
        if job.challenge_wins & (1 << i) != 0 {
            honest |= challenger_bit(i);
        } else {
            released |= challenger_bit(i);
        }
    }
    Some((honest, released))
}

/// Settles a job the referee's convictions decide (anyone): see [`referee_verdict`]. The
/// convicted slots are slashed for fraud; games still open on it end as moot.
pub fn settle_referee<'info>(ctx: Context<'info, SettleReferee<'info>>) -> Result<()> {
    let s = &ctx.accounts.settlement;
    let (honest, released) = {
        let job = s.job.load()?;
        referee_verdict(&job).ok_or(TesseraError::SlotsStillDisagree)?
    };
    let verdict = settle_verdict(
        s,
        ctx.remaining_accounts,
        &ctx.accounts.fee_vault.to_account_info(),
        &ctx.accounts.stake_vault.to_account_info(),
        honest,
        released,
    )?;
    emit_cpi!(verdict);
    Ok(())
}
