// Checks the TypeScript client against the shared fixtures (client/fixtures/fixtures.json, written
// by the Rust client's tests/fixtures.rs): every instruction rebuilt from the same inputs must be
// byte-for-byte the Rust builder's, every sample account must decode to the same fields and
// re-encode to the same bytes, and the PDAs must match.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import {
  address,
  createNoopSigner,
  isSignerRole,
  isWritableRole,
  type Address,
  type Instruction,
  type ReadonlyUint8Array,
} from '@solana/kit';
import * as tessera from '../src';

// ---- the fixture file and the IDL ----

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

type InstructionFixture = {
  name: string;
  inputs: Obj;
  programId: string;
  accounts: { pubkey: string; isSigner: boolean; isWritable: boolean }[];
  data: string;
};
type AccountFixture = { type: string; fields: Obj; data: string };
type PdaFixture = { name: string; seeds: Obj; address: string; bump: number };
type Fixtures = {
  programId: string;
  marketKeys: Record<
    'mint' | 'founder' | 'token_program' | 'treasury' | 'market' | 'stake_vault' | 'fee_vault',
    string
  >;
  pdas: PdaFixture[];
  customProgram: {
    programId: string;
    market: string;
    stake_vault: string;
    fee_vault: string;
    event_authority: string;
    collect_fees: InstructionFixture;
  };
  cheapJobIds: Record<'market' | 'creator' | 'start' | 'id', string>[];
  slotStatus: Record<string, number>;
  jobParties: string[];
  instructions: InstructionFixture[];
  accounts: AccountFixture[];
};

// Compiled to dist/test/: the client directory is three levels up.
const CLIENT_DIR = resolve(__dirname, '..', '..', '..');
const fixtures: Fixtures = JSON.parse(
  readFileSync(resolve(CLIENT_DIR, 'fixtures', 'fixtures.json'), 'utf8'),
);

type IdlType =
  | string
  | { array: [IdlType, number] }
  | { vec: IdlType }
  | { option: IdlType }
  | { defined: { name: string } };
type IdlTypeDef = {
  name: string;
  type:
    | { kind: 'struct'; fields: { name: string; type: IdlType }[] }
    | { kind: 'enum'; variants: { name: string; fields?: unknown }[] };
};
const idl: {
  address: string;
  instructions: { name: string; args: { name: string; type: IdlType }[] }[];
  accounts: { name: string }[];
  types: IdlTypeDef[];
  constants: { name: string; type: string; value: string }[];
} = JSON.parse(readFileSync(resolve(CLIENT_DIR, 'idl', 'tessera.json'), 'utf8'));

function typeDef(name: string): IdlTypeDef {
  const def = idl.types.find((t) => t.name === name);
  assert.ok(def, `type ${name} is not in the IDL`);
  return def;
}

// ---- conversions between the fixtures' JSON and the client's values, driven by the IDL ----

const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function hexToBytes(hex: string): Uint8Array {
  assert.match(hex, /^([0-9a-f]{2})*$/);
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
}

const bytesToHex = (bytes: ReadonlyUint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

const WIDE = ['u64', 'i64', 'u128', 'i128'];
const NARROW = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32'];

/** A fixture value of IDL type `type` as the client's encoders take it. */
function toArgs(type: IdlType, value: Json): unknown {
  if (typeof type === 'string') {
    if (type === 'pubkey') return address(value as string);
    if (WIDE.includes(type)) return BigInt(value as string);
    if (NARROW.includes(type) || type === 'bool' || type === 'string') return value;
    if (type === 'bytes') return hexToBytes(value as string);
    throw new Error(`unsupported IDL type ${type}`);
  }
  if ('array' in type || 'vec' in type) {
    const item = 'array' in type ? type.array[0] : type.vec;
    if (item === 'u8') return hexToBytes(value as string);
    return (value as Json[]).map((v) => toArgs(item, v));
  }
  if ('option' in type) return value === null ? null : toArgs(type.option, value);
  const def = typeDef(type.defined.name);
  if (def.type.kind === 'enum') {
    // A unit variant by its name; a variant with fields as `{ kind, ...fields }`, which Codama
    // takes as `{ __kind, ...fields }` (camelCase).
    if (typeof value === 'object' && value !== null && 'kind' in value) {
      const { kind, ...fields } = value as Obj;
      const variant = def.type.variants.find((v) => v.name === kind);
      assert.ok(variant?.fields, `${String(kind)} is not a variant of ${def.name} with fields`);
      const named = variant.fields as { name: string; type: IdlType }[];
      assert.deepEqual(Object.keys(fields).sort(), named.map((f) => f.name).sort(), `the fixture's ${def.name}::${String(kind)} has the IDL's fields`);
      return { __kind: kind, ...Object.fromEntries(named.map((f) => [camel(f.name), toArgs(f.type, fields[f.name])])) };
    }
    const index = def.type.variants.findIndex((v) => v.name === value);
    assert.ok(index >= 0, `${value} is not a variant of ${def.name}`);
    return index;
  }
  const fields = value as Obj;
  assert.deepEqual(
    Object.keys(fields).sort(),
    def.type.fields.map((f) => f.name).sort(),
    `the fixture's ${def.name} has the IDL's fields`,
  );
  return Object.fromEntries(def.type.fields.map((f) => [camel(f.name), toArgs(f.type, fields[f.name])]));
}

/** A decoded value of IDL type `type` in the fixtures' JSON form. */
function toJson(type: IdlType, value: unknown): Json {
  if (typeof type === 'string') {
    if (WIDE.includes(type)) {
      assert.equal(typeof value, 'bigint');
      return (value as bigint).toString();
    }
    if (type === 'bytes') return bytesToHex(value as ReadonlyUint8Array);
    return value as Json;
  }
  if ('array' in type || 'vec' in type) {
    const item = 'array' in type ? type.array[0] : type.vec;
    if (item === 'u8') return bytesToHex(value as ReadonlyUint8Array);
    return (value as unknown[]).map((v) => toJson(item, v));
  }
  if ('option' in type) {
    const option = value as { __option: 'Some' | 'None'; value?: unknown };
    return option.__option === 'None' ? null : toJson(type.option, option.value);
  }
  const def = typeDef(type.defined.name);
  if (def.type.kind === 'enum') return def.type.variants[value as number].name;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(def.type.fields.map((f) => [f.name, toJson(f.type, record[camel(f.name)])]));
}

// ---- rebuilding the fixtures' instructions with the client ----

const m = {
  mint: address(fixtures.marketKeys.mint),
  founder: address(fixtures.marketKeys.founder),
  tokenProgram: address(fixtures.marketKeys.token_program),
  treasury: address(fixtures.marketKeys.treasury),
};

const key = (inputs: Obj, name: string): Address => address(inputs[name] as string);
const signer = (inputs: Obj, name: string) => createNoopSigner(key(inputs, name));
const u64 = (inputs: Obj, name: string) => BigInt(inputs[name] as string);
const bytes = (inputs: Obj, name: string) => hexToBytes(inputs[name] as string);

/** The flattened fields of an instruction's single struct argument (`args` unless named). */
function structArgs<T>(instruction: string, inputs: Obj, name = 'args'): T {
  const arg = idl.instructions.find((i) => i.name === instruction)?.args.find((a) => a.name === name);
  assert.ok(arg, `${instruction} takes a struct ${name}`);
  return toArgs(arg.type, inputs[name]) as T;
}

/** The accounts that end a game; a null rows buffer is left out (Anchor's "none"). */
function gameEnd(inputs: Obj) {
  return {
    job: key(inputs, 'job'),
    game: key(inputs, 'game'),
    accuser: key(inputs, 'accuser'),
    defender: key(inputs, 'defender'),
    rowsBuffer: inputs.rows_buffer === null ? undefined : key(inputs, 'rows_buffer'),
  };
}

function parties(inputs: Obj): Address[] {
  return (inputs.parties as string[]).map((p) => address(p));
}

/**
 * The accounts every settling instruction shares (the program's `JobSettlement`). The creator's
 * token account is optional: a null input leaves it out (the builder puts the program id in its
 * place, Anchor's "none").
 */
async function settlement(inputs: Obj) {
  const [market] = await tessera.marketPda(m.mint, m.founder);
  const job = key(inputs, 'job');
  const [escrow] = await tessera.escrowPda(job);
  return {
    job,
    market,
    escrow,
    mint: m.mint,
    creator: key(inputs, 'creator'),
    creatorToken: inputs.creator_token === null ? undefined : key(inputs, 'creator_token'),
    tokenProgram: m.tokenProgram,
  };
}

/** The market's vaults: the stake vault (rewards, bonds) and the fee vault (protocol fees). */
async function vaults(market: Address) {
  const [stakeVault] = await tessera.stakeVaultPda(market);
  const [feeVault] = await tessera.feeVaultPda(market);
  return { stakeVault, feeVault };
}

/** The accounts of an operator's instruction: its authority signs, its PDA is derived. */
async function asOperator(inputs: Obj) {
  const [market] = await tessera.marketPda(m.mint, m.founder);
  const [operator] = await tessera.operatorPda(market, key(inputs, 'authority'));
  return { authority: signer(inputs, 'authority'), market, operator };
}

const builders: Record<string, (inputs: Obj) => Promise<Instruction>> = {
  async init_market(inputs) {
    const [market] = await tessera.marketPda(m.mint, m.founder);
    return tessera.getInitMarketInstruction({
      admin: signer(inputs, 'admin'),
      market,
      mint: m.mint,
      treasury: m.treasury,
      ...(await vaults(market)),
      tokenProgram: m.tokenProgram,
      ...structArgs<tessera.InitMarketInstructionDataArgs>('init_market', {
        args: { arbiter: inputs.arbiter, params: inputs.params },
      }),
    });
  },
  async update_market(inputs) {
    const [market] = await tessera.marketPda(m.mint, m.founder);
    const args = inputs.args as Obj;
    return tessera.getUpdateMarketInstruction({
      admin: signer(inputs, 'admin'),
      market,
      treasury: key(inputs, 'treasury'),
      // The argument shares the signer's name: the generator calls it newAdmin.
      newAdmin: key(args, 'admin'),
      arbiter: key(args, 'arbiter'),
      params: toArgs({ defined: { name: 'MarketParams' } }, args.params) as tessera.MarketParamsArgs,
    });
  },
  async set_paused(inputs) {
    const [market] = await tessera.marketPda(m.mint, m.founder);
    return tessera.getSetPausedInstruction({
      admin: signer(inputs, 'admin'),
      market,
      paused: inputs.paused as boolean,
    });
  },
  async register_operator(inputs) {
    const op = await asOperator(inputs);
    const [record] = await tessera.recordPda(op.market, op.authority.address);
    return tessera.getRegisterOperatorInstruction({
      ...op,
      record,
      capabilities: inputs.capabilities as number,
    });
  },
  async deposit_stake(inputs) {
    const op = await asOperator(inputs);
    const [stakeVault] = await tessera.stakeVaultPda(op.market);
    return tessera.getDepositStakeInstruction({
      ...op,
      stakeVault,
      from: key(inputs, 'from'),
      mint: m.mint,
      tokenProgram: m.tokenProgram,
      amount: u64(inputs, 'amount'),
    });
  },
  async request_unstake(inputs) {
    return tessera.getRequestUnstakeInstruction({
      ...(await asOperator(inputs)),
      amount: u64(inputs, 'amount'),
    });
  },
  async withdraw_stake(inputs) {
    const op = await asOperator(inputs);
    const [stakeVault] = await tessera.stakeVaultPda(op.market);
    const [record] = await tessera.recordPda(op.market, op.authority.address);
    return tessera.getWithdrawStakeInstruction({
      ...op,
      record,
      stakeVault,
      to: key(inputs, 'to'),
      mint: m.mint,
      tokenProgram: m.tokenProgram,
    });
  },
  async update_operator(inputs) {
    return tessera.getUpdateOperatorInstruction({
      ...(await asOperator(inputs)),
      capabilities: inputs.capabilities as number,
    });
  },
  async exit_operator(inputs) {
    return tessera.getExitOperatorInstruction(await asOperator(inputs));
  },
  async create_job(inputs) {
    const [market] = await tessera.marketPda(m.mint, m.founder);
    const args = structArgs<tessera.CreateJobInstructionDataArgs>('create_job', inputs);
    const [job] = await tessera.jobPda(market, key(inputs, 'creator'), args.jobId as bigint);
    const [escrow] = await tessera.escrowPda(job);
    return tessera.getCreateJobInstruction({
      creator: signer(inputs, 'creator'),
      market,
      job,
      escrow,
      creatorToken: key(inputs, 'creator_token'),
      mint: m.mint,
      tokenProgram: m.tokenProgram,
      ...args,
    });
  },
  async cancel_job(inputs) {
    return tessera.getCancelJobInstruction({
      signer: signer(inputs, 'creator'),
      ...(await settlement(inputs)),
    });
  },
  async close_job(inputs) {
    return tessera.getCloseJobInstruction({ creator: signer(inputs, 'creator'), job: key(inputs, 'job') });
  },
  async claim_job(inputs) {
    return tessera.getClaimJobInstruction({
      ...(await asOperator(inputs)),
      job: key(inputs, 'job'),
      ...structArgs<tessera.ClaimJobInstructionDataArgs>('claim_job', inputs, 'vetted'),
    });
  },
  async submit_result(inputs) {
    return tessera.getSubmitResultInstruction({
      ...(await asOperator(inputs)),
      job: key(inputs, 'job'),
      root: bytes(inputs, 'root'),
      outputUri: inputs.output_uri as string,
    });
  },
  async commit_result(inputs) {
    return tessera.getCommitResultInstruction({
      ...(await asOperator(inputs)),
      job: key(inputs, 'job'),
      commitment: bytes(inputs, 'commitment'),
    });
  },
  async reveal_result(inputs) {
    return tessera.getRevealResultInstruction({
      ...(await asOperator(inputs)),
      job: key(inputs, 'job'),
      root: bytes(inputs, 'root'),
      salt: bytes(inputs, 'salt'),
      outputUri: inputs.output_uri as string,
    });
  },
  async finalize_job(inputs) {
    const s = await settlement(inputs);
    const ix = tessera.getFinalizeJobInstruction({ ...s, ...(await vaults(s.market)) });
    return tessera.withParties(ix, parties(inputs));
  },
  async timeout_job(inputs) {
    const s = await settlement(inputs);
    const [stakeVault] = await tessera.stakeVaultPda(s.market);
    return tessera.withParties(tessera.getTimeoutJobInstruction({ ...s, stakeVault }), parties(inputs));
  },
  async expire_job(inputs) {
    const s = await settlement(inputs);
    const [stakeVault] = await tessera.stakeVaultPda(s.market);
    return tessera.withParties(tessera.getExpireJobInstruction({ ...s, stakeVault }), parties(inputs));
  },
  async commit_challenge(inputs) {
    const { authority, market, operator } = await asOperator(inputs);
    return tessera.getCommitChallengeInstruction({
      authority,
      market,
      challenger: operator,
      job: key(inputs, 'job'),
      commitment: bytes(inputs, 'commitment'),
    });
  },
  async reveal_challenge(inputs) {
    const { authority, market, operator } = await asOperator(inputs);
    return tessera.getRevealChallengeInstruction({
      authority,
      market,
      challenger: operator,
      job: key(inputs, 'job'),
      ...structArgs<tessera.RevealChallengeInstructionDataArgs>('reveal_challenge', inputs),
      salt: bytes(inputs, 'salt'),
    });
  },
  async resolve_dispute(inputs) {
    const s = await settlement(inputs);
    const ix = tessera.getResolveDisputeInstruction({
      arbiter: signer(inputs, 'arbiter'),
      ...s,
      ...(await vaults(s.market)),
      honestMask: inputs.honest_mask as number,
    });
    return tessera.withParties(ix, parties(inputs));
  },
  async expire_dispute(inputs) {
    const s = await settlement(inputs);
    const ix = tessera.getExpireDisputeInstruction({ ...s, ...(await vaults(s.market)) });
    return tessera.withParties(ix, parties(inputs));
  },
  async draw_audit(inputs) {
    return tessera.getDrawAuditInstruction({ job: key(inputs, 'job') });
  },
  async commit_audit(inputs) {
    const { authority, market, operator } = await asOperator(inputs);
    return tessera.getCommitAuditInstruction({
      authority,
      market,
      challenger: operator,
      job: key(inputs, 'job'),
      commitment: bytes(inputs, 'commitment'),
      chunks: inputs.chunks as number[],
    });
  },
  async post_audit_leaf(inputs) {
    return tessera.getPostAuditLeafInstruction({
      job: key(inputs, 'job'),
      leaf: bytes(inputs, 'leaf'),
      proof: (inputs.proof as string[]).map((h) => hexToBytes(h)),
    });
  },
  async reveal_audit(inputs) {
    const { authority, market, operator } = await asOperator(inputs);
    return tessera.getRevealAuditInstruction({
      authority,
      market,
      challenger: operator,
      job: key(inputs, 'job'),
      leaves: (inputs.leaves as string[]).map((h) => hexToBytes(h)),
      salt: bytes(inputs, 'salt'),
    });
  },
  async convict_withheld(inputs) {
    const s = await settlement(inputs);
    const ix = tessera.getConvictWithheldInstruction({ ...s, ...(await vaults(s.market)) });
    return tessera.withParties(ix, parties(inputs));
  },
  async init_buffer(inputs) {
    return tessera.getInitBufferInstruction({
      authority: signer(inputs, 'authority'),
      buffer: key(inputs, 'buffer'),
    });
  },
  async write_buffer(inputs) {
    return tessera.getWriteBufferInstruction({
      authority: signer(inputs, 'authority'),
      buffer: key(inputs, 'buffer'),
      offset: inputs.offset as number,
      bytes: bytes(inputs, 'bytes'),
    });
  },
  async close_buffer(inputs) {
    return tessera.getCloseBufferInstruction({
      authority: signer(inputs, 'authority'),
      buffer: key(inputs, 'buffer'),
    });
  },
  async prove_fraud(inputs) {
    const s = await settlement(inputs);
    const ix = tessera.getProveFraudInstruction({
      ...s,
      ...(await vaults(s.market)),
      buffer: key(inputs, 'buffer'),
      ...structArgs<tessera.ProveFraudInstructionDataArgs>('prove_fraud', inputs),
    });
    return tessera.withParties(ix, parties(inputs));
  },
  async open_game(inputs) {
    const authority = signer(inputs, 'authority');
    const [market] = await tessera.marketPda(m.mint, m.founder);
    const [accuserOperator] = await tessera.operatorPda(market, authority.address);
    const args = structArgs<tessera.OpenGameInstructionDataArgs>('open_game', inputs);
    const [game] = await tessera.gamePda(key(inputs, 'job'), args.defenderSlot, args.accuser as tessera.Accuser);
    return tessera.getOpenGameInstruction({
      authority,
      accuserOperator,
      defenderOperator: key(inputs, 'defender'),
      job: key(inputs, 'job'),
      game,
      ...args,
    });
  },
  async post_chain(inputs) {
    return tessera.getPostChainInstruction({
      defender: signer(inputs, 'defender'),
      game: key(inputs, 'game'),
      job: key(inputs, 'job'),
      chain: (inputs.chain as string[]).map((h) => hexToBytes(h)),
    });
  },
  async pick_layer(inputs) {
    return tessera.getPickLayerInstruction({
      accuser: signer(inputs, 'accuser'),
      game: key(inputs, 'game'),
      job: key(inputs, 'job'),
      layer: inputs.layer as number,
    });
  },
  async reveal_rows(inputs) {
    return tessera.getRevealRowsInstruction({
      defender: signer(inputs, 'defender'),
      game: key(inputs, 'game'),
      job: key(inputs, 'job'),
      buffer: key(inputs, 'buffer'),
      leafProofLen: inputs.leaf_proof_len as number,
    });
  },
  async prove_step(inputs) {
    return tessera.getProveStepInstruction({
      ...gameEnd(inputs),
      proofBuffer: key(inputs, 'proof_buffer'),
      ...structArgs<tessera.ProveStepInstructionDataArgs>('prove_step', inputs),
    });
  },
  async end_game(inputs) {
    return tessera.getEndGameInstruction(gameEnd(inputs));
  },
  async settle_referee(inputs) {
    const s = await settlement(inputs);
    const ix = tessera.getSettleRefereeInstruction({ ...s, ...(await vaults(s.market)) });
    return tessera.withParties(ix, parties(inputs));
  },
  async collect_fees() {
    const [market] = await tessera.marketPda(m.mint, m.founder);
    const [feeVault] = await tessera.feeVaultPda(market);
    return tessera.getCollectFeesInstruction({
      market,
      feeVault,
      treasury: m.treasury,
      mint: m.mint,
      tokenProgram: m.tokenProgram,
    });
  },
};

function metas(ix: Instruction) {
  return (ix.accounts ?? []).map((a) => ({
    pubkey: a.address as string,
    isSigner: isSignerRole(a.role),
    isWritable: isWritableRole(a.role),
  }));
}

describe('instructions', () => {
  it('the fixtures cover every instruction of the IDL, and the client builds each', () => {
    const names = fixtures.instructions.map((f) => f.name).sort();
    assert.deepEqual(names, idl.instructions.map((i) => i.name).sort());
    assert.deepEqual(Object.keys(builders).sort(), names);
  });

  for (const fixture of fixtures.instructions) {
    it(`${fixture.name}: same data and account metas as the Rust builder`, async () => {
      const build = builders[fixture.name];
      assert.ok(build, `no TypeScript builder for ${fixture.name}`);
      const ix = await build(fixture.inputs);
      assert.equal(ix.programAddress, fixture.programId);
      assert.equal(bytesToHex(ix.data ?? new Uint8Array()), fixture.data);
      assert.deepEqual(metas(ix), fixture.accounts);
    });
  }

  it('the async builders derive the same PDAs as the Rust client', async () => {
    const fixture = fixtures.instructions.find((f) => f.name === 'init_market')!;
    const inputs = fixture.inputs;
    const ix = await tessera.getInitMarketInstructionAsync({
      admin: signer(inputs, 'admin'),
      mint: m.mint,
      treasury: m.treasury,
      tokenProgram: m.tokenProgram,
      arbiter: key(inputs, 'arbiter'),
      params: toArgs({ defined: { name: 'MarketParams' } }, inputs.params) as tessera.MarketParamsArgs,
    });
    assert.deepEqual(metas(ix), fixture.accounts);
    assert.equal(bytesToHex(ix.data), fixture.data);
  });

  it('every instruction is identified by its discriminator', () => {
    for (const fixture of fixtures.instructions) {
      const pascal = camel(fixture.name).replace(/^./, (c) => c.toUpperCase());
      const kind = tessera.identifyTesseraInstruction(hexToBytes(fixture.data));
      assert.equal(tessera.TesseraInstruction[kind], pascal, fixture.name);
    }
    assert.throws(() => tessera.identifyTesseraInstruction(new Uint8Array(8)));
  });

  it('instruction data decodes back to the inputs', () => {
    const fixture = fixtures.instructions.find((f) => f.name === 'create_job')!;
    const data = tessera.getCreateJobInstructionDataDecoder().decode(hexToBytes(fixture.data));
    const { discriminator, ...args } = data;
    assert.deepEqual(discriminator, tessera.CREATE_JOB_DISCRIMINATOR);
    assert.deepEqual(args, structArgs('create_job', fixture.inputs));

    const claim = fixtures.instructions.find((f) => f.name === 'claim_job')!;
    const vetted = tessera.getClaimJobInstructionDataDecoder().decode(hexToBytes(claim.data));
    const { discriminator: claimDiscriminator, ...terms } = vetted;
    assert.deepEqual(claimDiscriminator, tessera.CLAIM_JOB_DISCRIMINATOR);
    assert.deepEqual(terms, structArgs('claim_job', claim.inputs, 'vetted'));
  });

  it('partiesOf lists the live slots then the challengers, as the Rust client', () => {
    const job = tessera.decodeJobData(hexToBytes(accountFixture('Job').data));
    assert.deepEqual(tessera.partiesOf(job), fixtures.jobParties);
  });

  it('challengeCommitment hashes a challenge as the program does', async () => {
    const commit = fixtures.instructions.find((f) => f.name === 'commit_challenge')!;
    const reveal = fixtures.instructions.find((f) => f.name === 'reveal_challenge')!;
    const args = structArgs<tessera.ChallengeClaim>('reveal_challenge', reveal.inputs);
    const challenger = address(commit.accounts[2].pubkey);
    const c = await tessera.challengeCommitment(args, challenger, bytes(reveal.inputs, 'salt'));
    assert.equal(bytesToHex(c), commit.inputs.commitment);
    // Bound to the challenger: another operator's commitment to the same challenge differs.
    const other = address(fixtures.marketKeys.market);
    const d = await tessera.challengeCommitment(args, other, bytes(reveal.inputs, 'salt'));
    assert.notEqual(bytesToHex(d), commit.inputs.commitment);
  });

  it('claimTerms reads the terms a claim carries from the job, as the Rust client', () => {
    // The claim_job fixture carries `Job::claim_terms` of the sample Job account.
    const job = tessera.decodeJobData(hexToBytes(accountFixture('Job').data));
    const claim = fixtures.instructions.find((f) => f.name === 'claim_job')!;
    assert.deepEqual(tessera.claimTerms(job), structArgs('claim_job', claim.inputs, 'vetted'));
    // The bond is the job's own (its terms), not a slot's (equal in the sample) or the market's.
    const rebonded = { ...job, terms: { ...job.terms, bond: 1n } };
    assert.equal(tessera.claimTerms(rebonded).maxBond, 1n);
    const ix = tessera.getClaimJobInstruction({
      authority: createNoopSigner(key(claim.inputs, 'authority')),
      market: address(fixtures.marketKeys.market),
      operator: address(claim.accounts[2].pubkey),
      job: key(claim.inputs, 'job'),
      ...tessera.claimTerms(job),
    });
    assert.equal(bytesToHex(ix.data), claim.data);
  });

  it('a settlement without the creator\'s token account puts the program id in its place', () => {
    const fixture = fixtures.instructions.find((f) => f.name === 'finalize_job')!;
    assert.equal(fixture.inputs.creator_token, null);
    // job, market, escrow, mint, creator, then the optional creator_token.
    assert.deepEqual(fixture.accounts[5], { pubkey: idl.address, isSigner: false, isWritable: false });
  });
});

// ---- accounts ----

const decoders: Record<string, (data: ReadonlyUint8Array) => object> = {
  Market: tessera.decodeMarketData,
  Operator: tessera.decodeOperatorData,
  OperatorRecord: tessera.decodeOperatorRecordData,
  Job: tessera.decodeJobData,
  Game: tessera.decodeGameData,
  ProofBuffer: tessera.decodeProofBufferData,
};
const encoders: Record<string, () => { encode: (value: never) => ReadonlyUint8Array }> = {
  Market: tessera.getMarketEncoder,
  Operator: tessera.getOperatorEncoder,
  OperatorRecord: tessera.getOperatorRecordEncoder,
  Job: tessera.getJobEncoder,
  Game: tessera.getGameEncoder,
  ProofBuffer: tessera.getProofBufferEncoder,
};

function accountFixture(type: string): AccountFixture {
  const fixture = fixtures.accounts.find((a) => a.type === type);
  assert.ok(fixture, `no ${type} fixture`);
  return fixture;
}

describe('accounts', () => {
  it('the fixtures cover every account of the IDL', () => {
    assert.deepEqual(
      fixtures.accounts.map((a) => a.type).sort(),
      idl.accounts.map((a) => a.name).sort(),
    );
  });

  for (const fixture of fixtures.accounts) {
    const type: IdlType = { defined: { name: fixture.type } };

    it(`${fixture.type}: decodes to the Rust fields`, () => {
      const decoded = decoders[fixture.type](hexToBytes(fixture.data));
      assert.deepEqual(toJson(type, decoded), fixture.fields);
    });

    it(`${fixture.type}: decodes through decodeTesseraAccount`, () => {
      const decoded = tessera.decodeTesseraAccount(hexToBytes(fixture.data));
      assert.equal(decoded.type, fixture.type);
      assert.deepEqual(toJson(type, decoded.data), fixture.fields);
    });

    it(`${fixture.type}: encodes the Rust fields to the same bytes`, () => {
      const args = toArgs(type, fixture.fields) as never;
      assert.equal(bytesToHex(encoders[fixture.type]().encode(args)), fixture.data);
    });

    it(`${fixture.type}: decodes with the zero padding of an allocated account`, () => {
      const data = hexToBytes(fixture.data);
      const padded = new Uint8Array(data.length + 300);
      padded.set(data);
      assert.deepEqual(toJson(type, decoders[fixture.type](padded)), fixture.fields);
    });

    it(`${fixture.type}: truncated data throws`, () => {
      const data = hexToBytes(fixture.data);
      assert.throws(() => decoders[fixture.type](data.slice(0, data.length - 1)));
      assert.throws(() => decoders[fixture.type](data.slice(0, 4)));
      assert.throws(() => decoders[fixture.type](new Uint8Array()));
    });

    it(`${fixture.type}: a wrong discriminator throws`, () => {
      const data = hexToBytes(fixture.data);
      data[0] ^= 0xff;
      assert.throws(() => decoders[fixture.type](data), /wrong or missing discriminator/);
      assert.throws(() => tessera.decodeTesseraAccount(data), /not a Tessera account/);
    });
  }

  it("another account type's bytes are rejected", () => {
    const market = hexToBytes(accountFixture('Market').data);
    const job = hexToBytes(accountFixture('Job').data);
    assert.throws(() => tessera.decodeJobData(market), /not a Job account/);
    assert.throws(() => tessera.decodeMarketData(job), /not a Market account/);
    assert.throws(() => tessera.decodeOperatorData(job), /not a Operator account/);
  });

  it('SlotStatus has the program\'s bytes', () => {
    const ts = Object.fromEntries(
      Object.entries(tessera.SlotStatus).filter(([, v]) => typeof v === 'number'),
    );
    assert.deepEqual(ts, fixtures.slotStatus);
  });

  it('a Job reads as its state, slot statuses and URI texts', () => {
    const job = tessera.decodeJobData(hexToBytes(accountFixture('Job').data));
    assert.equal(job.state, tessera.JobState.Disputed);
    assert.equal(
      tessera.uriText(job.inputUri),
      'ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/input.bin',
    );
    assert.deepEqual(
      job.assignments.map((a) => [a.status, tessera.uriText(a.outputUri)]),
      [
        [tessera.SlotStatus.Revealed, 's3://tessera-results/a/'],
        [tessera.SlotStatus.Committed, ''],
        [tessera.SlotStatus.Empty, ''],
      ],
    );
    const full = new Uint8Array(tessera.MAX_URI_LEN).fill(0x61);
    assert.equal(tessera.uriText(full), 'a'.repeat(tessera.MAX_URI_LEN));
    assert.throws(() => tessera.uriText(new Uint8Array([0xff, 0xfe, 0])), TypeError);
  });
});

// ---- PDAs and constants ----

describe('PDAs', () => {
  const derive: Record<string, (seeds: Obj) => ReturnType<typeof tessera.marketPda>> = {
    market: (s) => tessera.marketPda(key(s, 'mint'), key(s, 'founder')),
    stake_vault: (s) => tessera.stakeVaultPda(key(s, 'market')),
    fee_vault: (s) => tessera.feeVaultPda(key(s, 'market')),
    operator: (s) => tessera.operatorPda(key(s, 'market'), key(s, 'authority')),
    record: (s) => tessera.recordPda(key(s, 'market'), key(s, 'authority')),
    job: (s) => tessera.jobPda(key(s, 'market'), key(s, 'creator'), u64(s, 'job_id')),
    escrow: (s) => tessera.escrowPda(key(s, 'job')),
    game: (s) => tessera.gamePda(key(s, 'job'), s.defender as number, { __kind: 'Slot', slot: s.accuser as number }),
    event_authority: () => tessera.eventAuthorityPda(),
  };

  it('cheapJobId picks the Rust client\'s ids', async () => {
    for (const c of fixtures.cheapJobIds) {
      const id = await tessera.cheapJobId(address(c.market), address(c.creator), BigInt(c.start));
      assert.equal(id, BigInt(c.id));
      const [job, bump] = await tessera.jobPda(address(c.market), address(c.creator), id);
      assert.equal(bump, 255);
      assert.equal((await tessera.escrowPda(job))[1], 255);
    }
  });

  it('every fixture PDA has a helper', () => {
    assert.deepEqual(fixtures.pdas.map((p) => p.name).sort(), Object.keys(derive).sort());
  });

  for (const pda of fixtures.pdas) {
    it(`${pda.name}: same address and bump as the Rust client`, async () => {
      const [found, bump] = await derive[pda.name](pda.seeds);
      assert.equal(found, pda.address);
      assert.equal(bump, pda.bump);
    });
  }

  it('the market keys are the derived ones', async () => {
    const [market] = await tessera.marketPda(m.mint, m.founder);
    const [stakeVault] = await tessera.stakeVaultPda(market);
    const [feeVault] = await tessera.feeVaultPda(market);
    assert.equal(market, fixtures.marketKeys.market);
    assert.equal(stakeVault, fixtures.marketKeys.stake_vault);
    assert.equal(feeVault, fixtures.marketKeys.fee_vault);
    // The generated PDA helper (from the IDL's seeds) agrees.
    assert.equal((await tessera.findFeeVaultPda({ market }))[0], feeVault);
  });

  it('a mint has one market per founder', async () => {
    const [other] = await tessera.marketPda(m.mint, m.treasury);
    assert.notEqual(other, fixtures.marketKeys.market);
    const keys = await tessera.marketKeys(m.mint, m.founder);
    assert.equal(keys.market, fixtures.marketKeys.market);
    assert.equal(keys.programId, tessera.TESSERA_PROGRAM_ADDRESS);
  });

  it('programId: every address follows another deployment\'s id, as the Rust client', async () => {
    const c = fixtures.customProgram;
    const programId = address(c.programId);
    assert.notEqual(programId, tessera.TESSERA_PROGRAM_ADDRESS);
    const keys = await tessera.marketKeys(m.mint, m.founder, { programId });
    assert.equal(keys.programId, programId);
    assert.equal(keys.market, c.market);
    assert.equal(keys.stakeVault, c.stake_vault);
    assert.equal(keys.feeVault, c.fee_vault);
    assert.equal(keys.eventAuthority, c.event_authority);
    assert.equal((await tessera.marketPda(m.mint, m.founder, { programId }))[0], c.market);
    assert.equal((await tessera.eventAuthorityPda({ programId }))[0], c.event_authority);
    const ix = tessera.getCollectFeesInstruction(
      {
        market: keys.market,
        feeVault: keys.feeVault,
        treasury: m.treasury,
        mint: m.mint,
        tokenProgram: m.tokenProgram,
        eventAuthority: keys.eventAuthority,
      },
      { programAddress: keys.programId },
    );
    assert.equal(ix.programAddress, c.collect_fees.programId);
    assert.equal(bytesToHex(ix.data), c.collect_fees.data);
    assert.deepEqual(metas(ix), c.collect_fees.accounts);
  });

  it('the program address is the IDL\'s', () => {
    assert.equal(tessera.TESSERA_PROGRAM_ADDRESS, idl.address);
    assert.equal(fixtures.programId, idl.address);
  });

  it('the generated constants are the IDL\'s', () => {
    for (const c of idl.constants) {
      const value = (tessera as Record<string, unknown>)[c.name];
      const expected =
        c.type === 'bytes'
          ? new Uint8Array(JSON.parse(c.value))
          : WIDE.includes(c.type)
            ? BigInt(c.value)
            : JSON.parse(c.value);
      assert.deepEqual(value, expected, c.name);
    }
  });
});
