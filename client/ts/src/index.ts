// Tessera's TypeScript client: the code generated from the program's IDL (instructions,
// accounts, types, errors, constants) plus PDA derivation, checked account decoding, the terms a
// claim carries, challenge commitments, the settling instructions' remaining accounts, and for
// pages: the output's Merkle tree, its tiles checked against the root, scene checks, and int8
// models checked, committed to (the model root) and their outputs assembled.
export * from './generated';
export * from './generated/constants';
export * from './pda';
export * from './accounts';
export * from './parties';
export * from './challenge';
export * from './merkle';
export * from './output';
export * from './scene';
export * from './model';
export * from './events';
