//! One error type for the whole client: [`ClientError`].
//!
//! A failed transaction is mapped from the runtime's `TransactionError` to what a user can act
//! on: a Tessera program error (custom code ≥ 6000) becomes [`ClientError::Program`] with its
//! [`TesseraError`] variant and the program's own message; an Anchor framework error (codes
//! 100–5999) becomes [`ClientError::Anchor`]; missing lamports or tokens become
//! [`ClientError::InsufficientFunds`]; an expired blockhash becomes
//! [`ClientError::BlockhashExpired`]. Problems found before anything is sent are
//! [`ClientError::BadInput`], which always says what to do.
use anchor_lang::error::ErrorCode as AnchorCode;
use anchor_lang::prelude::Pubkey;
use solana_instruction_error::InstructionError;
use solana_transaction_error::TransactionError;
use tessera::error::TesseraError;

/// Every Tessera error, in code order (codes are `6000 + index`; the enum is append-only, and a
/// test checks this table against the IDL).
pub const TESSERA_ERRORS: &[TesseraError] = &{
    use TesseraError::*;
    [
        BpsTooLarge,
        FeeAndBurnTooLarge,
        SlashSplitTooLarge,
        BadMaxReplicas,
        BadWindow,
        MathOverflow,
        MarketPaused,
        NotAdmin,
        NotArbiter,
        WrongMint,
        WrongTreasury,
        ZeroAmount,
        OperatorNotActive,
        InsufficientFreeStake,
        StakeBelowMinimum,
        UnbondingNotReady,
        NothingToWithdraw,
        OperatorHasBonds,
        MissingCapability,
        BadKernel,
        BadReplicas,
        RewardTooLow,
        BadUri,
        BadChunkCount,
        BadClaimDeadline,
        BadExecTimeout,
        WrongJobState,
        ClaimDeadlinePassed,
        JobFull,
        AlreadyClaimed,
        NotAssigned,
        WrongSlotState,
        UseCommitReveal,
        UseSubmit,
        ExecTimeoutPassed,
        RevealWindowClosed,
        CommitmentMismatch,
        ChallengeWindowOpen,
        ChallengeWindowClosed,
        NotLate,
        NotExpired,
        JobHasClaims,
        NotCreator,
        WrongOperatorAccounts,
        WrongPayout,
        WrongCreatorAccount,
        SelfChallenge,
        AlreadyChallenged,
        BadMerkleProof,
        ChallengeAgrees,
        BadVerdict,
        BadSlot,
        InvariantViolated,
        NotOperatorAuthority,
        WrongMarket,
        WrongEscrow,
        UnsupportedMintExtension,
        WindowTooLong,
        WrongStakeVault,
        JobNotEnded,
        BadCollateral,
        TermsChanged,
        OperatorHasLiveClaims,
        ExecTimeoutTooShort,
        DisputeOpen,
        DisputeDeadlinePassed,
        CreatorTokenAccountRequired,
        WrongFeeVault,
        BadArbiter,
        BadTreasury,
        NoFees,
        TooManyChallenges,
        ChallengeRevealOpen,
        NotRefereeable,
        BadModelCommitment,
        BadFraudProof,
        NoFraud,
        NotBufferAuthority,
        BufferOverflow,
        KernelNeedsArbiter,
        GamePlayed,
        WrongGamePhase,
        NotGameParty,
        GameMoveLate,
        WrongGame,
        BadChain,
        BadLayer,
        GameNotOver,
        SlotsStillDisagree,
        GamesOpen,
        BadAuditParams,
        NoAuditDraw,
        AuditNotReady,
        NotAuditable,
        NoAudit,
        AuditLeavesDone,
        AuditLeavesMissing,
        AuditOpen,
        AuditMismatch,
        BadAuditChunks,
    ]
};

/// The Anchor framework errors a Tessera instruction can end with, and what a user should do.
const ANCHOR_ERRORS: &[(AnchorCode, &str)] = &[
    (AnchorCode::InstructionMissing, "the client and the program disagree; update the client"),
    (AnchorCode::InstructionFallbackNotFound, "the program does not know this instruction; update the client or check the program id"),
    (AnchorCode::InstructionDidNotDeserialize, "the client and the program disagree about an instruction's arguments; update the client"),
    (AnchorCode::ConstraintMut, "an account that must be writable was passed read-only"),
    (AnchorCode::ConstraintHasOne, "an account does not belong to this market, job or operator"),
    (AnchorCode::ConstraintSigner, "a required signature is missing"),
    (AnchorCode::ConstraintRaw, "an account does not satisfy the instruction's constraint"),
    (AnchorCode::ConstraintOwner, "an account is owned by the wrong program"),
    (AnchorCode::ConstraintSeeds, "an address is not the expected program-derived address; check the market and keys"),
    (AnchorCode::ConstraintAddress, "an account is not at the expected address"),
    (AnchorCode::ConstraintTokenMint, "a token account holds another mint; use an account of the market's mint"),
    (AnchorCode::ConstraintTokenOwner, "a token account is owned by someone else; use one owned by the signer"),
    (AnchorCode::ConstraintTokenTokenProgram, "a token account belongs to another token program than the market's"),
    (AnchorCode::ConstraintMintTokenProgram, "the mint belongs to another token program than the one passed"),
    (AnchorCode::ConstraintDuplicateMutableAccount, "the same writable account was passed twice"),
    (AnchorCode::AccountDiscriminatorNotFound, "an account has no data; does it exist?"),
    (AnchorCode::AccountDiscriminatorMismatch, "an account is of the wrong type; check the addresses"),
    (AnchorCode::AccountDidNotDeserialize, "an account could not be read; check the addresses"),
    (AnchorCode::AccountNotEnoughKeys, "an instruction is missing accounts; update the client"),
    (AnchorCode::AccountNotMutable, "an account that must be writable was passed read-only"),
    (AnchorCode::AccountOwnedByWrongProgram, "an account is owned by another program (wrong token program or not a Tessera account?)"),
    (AnchorCode::InvalidProgramId, "a program account is not the expected program"),
    (AnchorCode::AccountNotSigner, "a required signature is missing"),
    (AnchorCode::AccountNotSystemOwned, "an account must be a plain system account"),
    (AnchorCode::AccountNotInitialized, "an account the instruction needs does not exist yet (is the market initialised, the operator registered, the token account created?)"),
    (AnchorCode::DeclaredProgramIdMismatch, "the program at this address is another build; check the program id"),
];

/// SPL Token's custom error code for a token account without enough tokens (the same in
/// Token-2022); it surfaces unchanged through the program's CPI.
const SPL_TOKEN_INSUFFICIENT_FUNDS: u32 = 1;

/// Looks up the Tessera error with custom code `code`.
pub fn tessera_error(code: u32) -> Option<TesseraError> {
    TESSERA_ERRORS
        .iter()
        .copied()
        .find(|e| u32::from(*e) == code)
}

/// Looks up an Anchor framework error by code: (name, message, what to do).
pub fn anchor_error(code: u32) -> Option<(String, String, &'static str)> {
    ANCHOR_ERRORS
        .iter()
        .find(|(e, _)| u32::from(*e) == code)
        .map(|(e, hint)| (e.name(), e.to_string(), *hint))
}

/// Errors of the Tessera client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The program refused the transaction with one of its own errors.
    #[error("{message} ({name}, error {code})", name = error.name())]
    Program {
        code: u32,
        error: TesseraError,
        /// The program's message: a full sentence saying what to do.
        message: String,
        /// The transaction's logs, where known.
        logs: Vec<String>,
    },
    /// The program refused the transaction with an error code this client does not know.
    #[error(
        "the program failed with error {code}, which this client does not know; update the client"
    )]
    UnknownProgram { code: u32, logs: Vec<String> },
    /// The Anchor framework refused an account or an instruction.
    #[error("{message}: {hint} ({name}, error {code})")]
    Anchor {
        code: u32,
        name: String,
        message: String,
        hint: &'static str,
        logs: Vec<String>,
    },
    /// A payer lacks SOL (fees, rent) or a token account lacks tokens.
    #[error("insufficient funds: {what}; {fix}")]
    InsufficientFunds { what: String, fix: String },
    /// An account the client needs does not exist.
    #[error("{what} {address} not found; {fix}")]
    AccountNotFound {
        what: &'static str,
        address: Pubkey,
        fix: &'static str,
    },
    /// The blockhash expired before the transaction landed, every time it was tried.
    #[error("the transaction did not land before its blockhash expired ({attempts} attempts); check the cluster's health or raise the priority fee, then try again")]
    BlockhashExpired { attempts: u32 },
    /// Any other transaction failure.
    #[error("transaction failed: {error}")]
    Transaction {
        error: TransactionError,
        logs: Vec<String>,
    },
    /// The RPC node answered, with an error (see [`ClientError::from_rpc_message`]).
    #[error("the RPC node answered with an error: {0}")]
    Rpc(String),
    /// The RPC node could not be reached: the connection was refused or timed out, or the
    /// host is unknown.
    #[error("cannot reach the RPC node: {0}; check the RPC URL (`--url`, or the worker's `rpc_url`) and that the node is up")]
    RpcUnreachable(String),
    /// The object store failed.
    #[error("object store: {0}")]
    Store(String),
    /// A chunk of the output does not hash into the root the job committed to.
    #[error("chunk {index} at {uri} does not match the job's committed Merkle root; the stored output was altered or is not this job's: do not use it (a verifier can challenge it)")]
    ChunkMismatch { index: u32, uri: String },
    /// The output is consistent with the root but cannot be assembled.
    #[error("the output cannot be assembled: {0}")]
    Output(String),
    /// The wait ended before the job reached the wanted state.
    #[error("timed out after {waited_s} s waiting for the job (last seen: {state}); wait longer or check the job with `tessera job status`")]
    Timeout { waited_s: u64, state: String },
    /// The input is wrong; nothing was sent.
    #[error("{problem}; {fix}")]
    BadInput { problem: String, fix: String },
    /// A keypair file cannot be read (or written).
    #[error("cannot use the keypair file {}: {reason}; give the path of a Solana CLI keypair (a JSON array of 64 bytes), or create one with `solana-keygen new`", path.display())]
    Keypair {
        path: std::path::PathBuf,
        reason: String,
    },
}

impl ClientError {
    /// Bad input with what to do about it.
    pub fn bad_input(problem: impl Into<String>, fix: impl Into<String>) -> Self {
        ClientError::BadInput {
            problem: problem.into(),
            fix: fix.into(),
        }
    }

    /// An RPC failure from its message: [`ClientError::RpcUnreachable`] when the request
    /// never reached the node (refused, timed out, no such host), else [`ClientError::Rpc`].
    /// The Solana RPC client reports every failed `getAccountInfo` as `AccountNotFound:
    /// pubkey=…: <cause>`, even when the node was never reached; that prefix is dropped when
    /// the cause is the network, so an unreachable node is not taken for a missing account.
    pub fn from_rpc_message(message: impl Into<String>) -> Self {
        /// What the HTTP client says when a request did not reach the node.
        const UNREACHABLE: &[&str] = &[
            "error sending request",
            "connection refused",
            "tcp connect error",
            "dns error",
            "failed to lookup address",
            "operation timed out",
            "connection closed before message completed",
            "connection reset",
        ];
        let message = message.into();
        let lower = message.to_ascii_lowercase();
        if !UNREACHABLE.iter().any(|m| lower.contains(m)) {
            return ClientError::Rpc(message);
        }
        let cause = match message.strip_prefix("AccountNotFound: pubkey=") {
            Some(rest) => rest.split_once(": ").map_or(rest, |(_, cause)| cause),
            None => &message,
        };
        ClientError::RpcUnreachable(cause.to_string())
    }

    /// Maps a failed transaction to the error a user can act on.
    pub fn from_transaction_error(error: TransactionError, logs: Vec<String>) -> Self {
        match &error {
            TransactionError::InstructionError(_, InstructionError::Custom(code)) => {
                let code = *code;
                if let Some(e) = tessera_error(code) {
                    return ClientError::Program {
                        code,
                        error: e,
                        message: e.to_string(),
                        logs,
                    };
                }
                if let Some((name, message, hint)) = anchor_error(code) {
                    return ClientError::Anchor {
                        code,
                        name,
                        message,
                        hint,
                        logs,
                    };
                }
                if code >= anchor_lang::error::ERROR_CODE_OFFSET {
                    return ClientError::UnknownProgram { code, logs };
                }
                if code == SPL_TOKEN_INSUFFICIENT_FUNDS {
                    return ClientError::InsufficientFunds {
                        what: "a token account holds fewer tokens than the transfer".into(),
                        fix: "fund the token account with the market's mint, or lower the amount"
                            .into(),
                    };
                }
                ClientError::Transaction { error, logs }
            }
            TransactionError::InstructionError(_, InstructionError::InsufficientFunds)
            | TransactionError::InsufficientFundsForFee
            | TransactionError::InsufficientFundsForRent { .. } => ClientError::InsufficientFunds {
                what: "not enough SOL for the fee or the rent of new accounts".into(),
                fix: "fund the paying keypair (on localnet or devnet: `solana airdrop 1`)".into(),
            },
            TransactionError::AccountNotFound => ClientError::InsufficientFunds {
                what: "the fee payer has no SOL (its account does not exist)".into(),
                fix: "fund the paying keypair (on localnet or devnet: `solana airdrop 1`)".into(),
            },
            TransactionError::BlockhashNotFound => ClientError::BlockhashExpired { attempts: 1 },
            _ => ClientError::Transaction { error, logs },
        }
    }

    /// The Tessera error, if the program refused the transaction with one.
    pub fn tessera(&self) -> Option<TesseraError> {
        match self {
            ClientError::Program { error, .. } => Some(*error),
            _ => None,
        }
    }

    /// The transaction's logs, where the error carries them.
    pub fn logs(&self) -> &[String] {
        match self {
            ClientError::Program { logs, .. }
            | ClientError::Anchor { logs, .. }
            | ClientError::UnknownProgram { logs, .. }
            | ClientError::Transaction { logs, .. } => logs,
            _ => &[],
        }
    }
}

impl From<object_store::Error> for ClientError {
    fn from(e: object_store::Error) -> Self {
        ClientError::Store(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tessera_errors_are_in_code_order() {
        for (i, e) in TESSERA_ERRORS.iter().enumerate() {
            assert_eq!(u32::from(*e), 6000 + i as u32, "{e:?}");
        }
    }

    /// The table covers every error the IDL knows (the enum is append-only: a new variant
    /// must be added to the table too).
    #[test]
    fn tessera_errors_match_the_idl() {
        let idl: serde_json::Value =
            serde_json::from_str(include_str!("../idl/tessera.json")).unwrap();
        let errors = idl["errors"].as_array().unwrap();
        assert_eq!(errors.len(), TESSERA_ERRORS.len());
        for e in errors {
            let code = e["code"].as_u64().unwrap() as u32;
            let found = tessera_error(code).unwrap();
            assert_eq!(found.name(), e["name"].as_str().unwrap());
            assert_eq!(found.to_string(), e["msg"].as_str().unwrap());
        }
    }

    #[test]
    fn custom_codes_map_to_program_errors() {
        let err = ClientError::from_transaction_error(
            TransactionError::InstructionError(0, InstructionError::Custom(6021)),
            vec!["log".into()],
        );
        assert!(matches!(err.tessera(), Some(TesseraError::RewardTooLow)));
        assert_eq!(
            err.to_string(),
            "The reward per replica is below the market's minimum. (RewardTooLow, error 6021)"
        );
        assert_eq!(err.logs(), ["log".to_string()]);
    }

    #[test]
    fn anchor_codes_map_to_framework_errors() {
        let err = ClientError::from_transaction_error(
            TransactionError::InstructionError(1, InstructionError::Custom(3012)),
            vec![],
        );
        match &err {
            ClientError::Anchor { name, code, .. } => {
                assert_eq!(name, "AccountNotInitialized");
                assert_eq!(*code, 3012);
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("does not exist yet"));
    }

    #[test]
    fn an_unreachable_node_is_not_a_missing_account() {
        let cause = "error sending request for url (http://127.0.0.1:1/): client error (Connect): tcp connect error: Connection refused (os error 111)";
        let e = ClientError::from_rpc_message(format!(
            "AccountNotFound: pubkey={}: {cause}",
            Pubkey::new_unique()
        ));
        assert!(
            matches!(&e, ClientError::RpcUnreachable(c) if c == cause),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            format!("cannot reach the RPC node: {cause}; check the RPC URL (`--url`, or the worker's `rpc_url`) and that the node is up")
        );
        let e = ClientError::from_rpc_message("operation timed out");
        assert!(matches!(e, ClientError::RpcUnreachable(_)), "{e:?}");
        // The node answered: no advice about the URL or the node being up.
        let e = ClientError::from_rpc_message("-32602: Invalid param: WrongSize");
        assert_eq!(
            e.to_string(),
            "the RPC node answered with an error: -32602: Invalid param: WrongSize"
        );
        // A program error says what the program said, nothing about the node.
        let e = ClientError::from_transaction_error(
            TransactionError::InstructionError(0, InstructionError::Custom(6034)),
            vec![],
        );
        assert!(!e.to_string().contains("node"), "{e}");
        assert!(!e.to_string().contains("--url"), "{e}");
    }

    #[test]
    fn funds_and_blockhash_errors() {
        let e = ClientError::from_transaction_error(
            TransactionError::InstructionError(0, InstructionError::Custom(1)),
            vec![],
        );
        assert!(matches!(e, ClientError::InsufficientFunds { .. }), "{e}");
        let e =
            ClientError::from_transaction_error(TransactionError::InsufficientFundsForFee, vec![]);
        assert!(e.to_string().contains("airdrop"), "{e}");
        let e = ClientError::from_transaction_error(TransactionError::BlockhashNotFound, vec![]);
        assert!(matches!(e, ClientError::BlockhashExpired { .. }));
        let e = ClientError::from_transaction_error(
            TransactionError::InstructionError(0, InstructionError::Custom(42)),
            vec![],
        );
        assert!(matches!(e, ClientError::Transaction { .. }));
        assert!(tessera_error(5999).is_none());
        let e = ClientError::from_transaction_error(
            TransactionError::InstructionError(0, InstructionError::Custom(6999)),
            vec![],
        );
        assert!(
            matches!(e, ClientError::UnknownProgram { code: 6999, .. }),
            "{e}"
        );
    }
}
