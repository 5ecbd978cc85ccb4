// The remaining accounts of the settling instructions (finalize_job, timeout_job, expire_job,
// resolve_dispute, expire_dispute), which the IDL cannot describe: the operator account of every
// live slot of the job, in slot order, then every challenger's in commitment order, all
// writable (`partiesOf`, as the Rust client's `ix::parties`).
import { AccountRole, type AccountMeta, type Address, type Instruction } from '@solana/kit';
import type { Job } from './generated';

/** The parties of every settling instruction for `job`: the operator of each live slot
 * (claimed, committed or revealed) in slot order, then each challenger in commitment order. */
export function partiesOf(job: Job): Address[] {
  const live = job.assignments
    .slice(0, job.replicas)
    .filter((a) => a.status >= 1 && a.status <= 3)
    .map((a) => a.operator);
  const challengers = job.challenges.filter((c) => c.status !== 0).map((c) => c.challenger);
  return [...live, ...challengers];
}

/** The account metas of `operators` (operator PDAs), in order. */
export function partyAccountMetas(operators: readonly Address[]): AccountMeta[] {
  return operators.map((address) => ({ address, role: AccountRole.WRITABLE }));
}

/** `instruction` with the operator accounts of its parties appended. */
export function withParties<T extends Instruction>(instruction: T, operators: readonly Address[]): T {
  return Object.freeze({
    ...instruction,
    accounts: [...(instruction.accounts ?? []), ...partyAccountMetas(operators)],
  });
}
