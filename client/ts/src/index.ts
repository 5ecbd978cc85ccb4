// Tessera's TypeScript client: the code generated from the program's IDL (instructions,
// accounts, types, errors, constants) plus PDA derivation, checked account decoding, the terms a
// claim carries, challenge commitments and the settling instructions' remaining accounts.
export * from './generated';
export * from './generated/constants';
export * from './pda';
export * from './accounts';
export * from './parties';
export * from './challenge';
