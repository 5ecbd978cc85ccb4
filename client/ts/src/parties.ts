// The remaining accounts of the settling instructions (finalize_job, timeout_job, expire_job,
// resolve_dispute, expire_dispute), which the IDL cannot describe: the operator account of every
// live slot of the job, in slot order (then the challenger's, for resolve_dispute and
// expire_dispute when the job was challenged), all writable.
import { AccountRole, type AccountMeta, type Address, type Instruction } from '@solana/kit';

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
