//! The Merkle tree over a Tessera job's output (DESIGN §4), defined once and shared by the
//! on-chain program, the worker, the client and verifiers.
//!
//! - leaf = sha256(0x00 ‖ chunk)
//! - node = sha256(0x01 ‖ left ‖ right)
//! - a level with an odd number of nodes carries its last node up unchanged (no duplication,
//!   so a tree of `n` leaves has exactly one shape and no second preimage through padding).
//! - the root of a single leaf is that leaf; the root of zero leaves is `EMPTY_ROOT`.
//!
//! `no_std`, so the program can use it on SBPF.
#![no_std]

extern crate alloc;

use alloc::vec::Vec;

/// A 32-byte sha256 digest.
pub type Hash = [u8; 32];

/// Domain-separation prefix of a leaf.
pub const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix of an inner node.
pub const NODE_PREFIX: u8 = 0x01;
/// The root of an empty output (no chunk): all zeros, which no real root can equal in practice.
pub const EMPTY_ROOT: Hash = [0u8; 32];
/// Largest number of chunks a job may have; bounds proof length to 20 hashes.
pub const MAX_CHUNKS: u32 = 1 << 20;

/// sha256 of the concatenation of `parts`.
pub fn sha256(parts: &[&[u8]]) -> Hash {
    solana_sha256_hasher::hashv(parts).to_bytes()
}

/// Hash of one output chunk.
pub fn leaf_hash(chunk: &[u8]) -> Hash {
    sha256(&[&[LEAF_PREFIX], chunk])
}

/// Hash of an inner node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    sha256(&[&[NODE_PREFIX], left, right])
}

/// Root over precomputed leaf hashes.
pub fn root_from_leaves(leaves: &[Hash]) -> Hash {
    if leaves.is_empty() {
        return EMPTY_ROOT;
    }
    let mut level: Vec<Hash> = leaves.to_vec();
    while level.len() > 1 {
        level = next_level(&level);
    }
    level[0]
}

/// Root over raw chunks.
pub fn root_of_chunks<C: AsRef<[u8]>>(chunks: &[C]) -> Hash {
    let leaves: Vec<Hash> = chunks.iter().map(|c| leaf_hash(c.as_ref())).collect();
    root_from_leaves(&leaves)
}

fn next_level(level: &[Hash]) -> Vec<Hash> {
    level
        .chunks(2)
        .map(|pair| match pair {
            [l, r] => node_hash(l, r),
            [single] => *single,
            _ => unreachable!("chunks(2) yields one or two items"),
        })
        .collect()
}

/// The sibling path from leaf `index` to the root (bottom-up). Levels where the node is carried
/// up without a sibling contribute nothing. Panics if `index` is out of range.
pub fn proof(leaves: &[Hash], index: usize) -> Vec<Hash> {
    assert!(index < leaves.len(), "leaf index out of range");
    let mut path = Vec::new();
    let mut level: Vec<Hash> = leaves.to_vec();
    let mut i = index;
    while level.len() > 1 {
        let sibling = i ^ 1;
        if sibling < level.len() {
            path.push(level[sibling]);
        }
        level = next_level(&level);
        i /= 2;
    }
    path
}

/// Checks that `leaf` sits at `index` of a tree of `count` leaves with root `root`.
pub fn verify_proof(root: &Hash, leaf: &Hash, index: u32, count: u32, proof: &[Hash]) -> bool {
    if count == 0 || index >= count || count > MAX_CHUNKS {
        return false;
    }
    let mut acc = *leaf;
    let mut i = index;
    let mut width = count;
    let mut used = 0usize;
    while width > 1 {
        let sibling = i ^ 1;
        if sibling < width {
            let Some(s) = proof.get(used) else {
                return false;
            };
            acc = if i.is_multiple_of(2) {
                node_hash(&acc, s)
            } else {
                node_hash(s, &acc)
            };
            used += 1;
        }
        i /= 2;
        width = width.div_ceil(2);
    }
    used == proof.len() && acc == *root
}

/// The commitment an operator posts before revealing: sha256(root ‖ operator ‖ salt).
pub fn commitment(root: &Hash, operator: &[u8; 32], salt: &[u8; 32]) -> Hash {
    sha256(&[root, operator, salt])
}

/// A verifier's commitment to a challenge (`commit_challenge`): `sha256(chunk (u32 LE) ‖ hash
/// ‖ operator_leaf ‖ challenger ‖ salt)`, bound to the challenger's operator account.
pub fn challenge_commitment(
    chunk: u32,
    hash: &Hash,
    operator_leaf: &Hash,
    challenger: &[u8; 32],
    salt: &[u8; 32],
) -> Hash {
    sha256(&[&chunk.to_le_bytes(), hash, operator_leaf, challenger, salt])
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use proptest::prelude::*;

    #[test]
    fn known_vectors() {
        // sha256(0x00) — a leaf over the empty chunk.
        assert_eq!(
            leaf_hash(b""),
            hex32("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        );
        let a = leaf_hash(b"a");
        let b = leaf_hash(b"b");
        assert_eq!(root_of_chunks(&[b"a"]), a);
        assert_eq!(root_of_chunks(&[b"a", b"b"]), node_hash(&a, &b));
        let c = leaf_hash(b"c");
        // Odd level: c is carried up.
        assert_eq!(
            root_of_chunks(&[b"a", b"b", b"c"]),
            node_hash(&node_hash(&a, &b), &c)
        );
        assert_eq!(root_from_leaves(&[]), EMPTY_ROOT);
    }

    #[test]
    fn leaf_and_node_are_domain_separated() {
        let a = leaf_hash(b"a");
        let b = leaf_hash(b"b");
        let mut concat = vec![];
        concat.extend_from_slice(&a);
        concat.extend_from_slice(&b);
        // A leaf whose bytes are two hashes is not the node over them.
        assert_ne!(leaf_hash(&concat), node_hash(&a, &b));
    }

    #[test]
    fn proof_rejects_wrong_index_count_and_extra_hashes() {
        let leaves: Vec<Hash> = (0u8..5).map(|i| leaf_hash(&[i])).collect();
        let root = root_from_leaves(&leaves);
        let p = proof(&leaves, 2);
        assert!(verify_proof(&root, &leaves[2], 2, 5, &p));
        assert!(!verify_proof(&root, &leaves[2], 3, 5, &p));
        // The last leaf of an odd tree is carried up; a larger count changes its path.
        let p4 = proof(&leaves, 4);
        assert!(verify_proof(&root, &leaves[4], 4, 5, &p4));
        assert!(!verify_proof(&root, &leaves[4], 4, 6, &p4));
        assert!(!verify_proof(&root, &leaves[3], 2, 5, &p));
        assert!(!verify_proof(&root, &leaves[2], 5, 5, &p));
        let mut longer = p.clone();
        longer.push([7u8; 32]);
        assert!(!verify_proof(&root, &leaves[2], 2, 5, &longer));
        assert!(!verify_proof(&root, &leaves[2], 2, 5, &p[..p.len() - 1]));
    }

    fn hex32(s: &str) -> Hash {
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    proptest! {
        #[test]
        fn every_proof_verifies(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..16), 1..40), pick in any::<prop::sample::Index>()) {
            let leaves: Vec<Hash> = chunks.iter().map(|c| leaf_hash(c)).collect();
            let root = root_from_leaves(&leaves);
            let i = pick.index(leaves.len());
            let p = proof(&leaves, i);
            prop_assert!(verify_proof(&root, &leaves[i], i as u32, leaves.len() as u32, &p));
            let mut bad = leaves[i];
            bad[0] ^= 1;
            prop_assert!(!verify_proof(&root, &bad, i as u32, leaves.len() as u32, &p));
        }
    }
}
