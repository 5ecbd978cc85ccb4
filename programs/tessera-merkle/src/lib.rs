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

/// Domain-separation prefix of an audit draw's seed.
pub const AUDIT_DOMAIN: &[u8] = b"tessera-audit";

/// The seed of a job's audit draw (`draw_audit`): `sha256("tessera-audit" ‖ slot_hash ‖ job)`,
/// where `slot_hash` is the hash of the first slot after the job's results came in.
pub fn audit_seed(slot_hash: &Hash, job: &[u8; 32]) -> Hash {
    sha256(&[AUDIT_DOMAIN, slot_hash, job])
}

/// Whether the draw with `seed` audits a job of a market auditing `rate_bps` of 10 000 jobs.
pub fn audit_drawn(seed: &Hash, rate_bps: u16) -> bool {
    draw_u64(seed, u32::MAX) % 10_000 < u64::from(rate_bps)
}

/// The chunks an audit drawn with `seed` checks: `count` distinct chunks of `chunk_count`
/// (all of them when the job has fewer), by Floyd's sampling, in draw order.
pub fn audit_chunks(seed: &Hash, chunk_count: u32, count: u8) -> Vec<u32> {
    let k = u32::from(count).min(chunk_count);
    let mut picked: Vec<u32> = Vec::with_capacity(k as usize);
    for j in chunk_count - k..chunk_count {
        let t = (draw_u64(seed, j) % (u64::from(j) + 1)) as u32;
        picked.push(if picked.contains(&t) { j } else { t });
    }
    picked
}

/// The `i`th number of a draw: the first 8 bytes (LE) of `sha256(seed ‖ i)`.
fn draw_u64(seed: &Hash, i: u32) -> u64 {
    let h = sha256(&[seed, &i.to_le_bytes()]);
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&h[..8]);
    u64::from_le_bytes(bytes)
}

/// An auditor's commitment (`commit_audit`): `sha256(leaf_1 ‖ … ‖ leaf_k ‖ auditor ‖ salt)`
/// over the leaves it recomputed for the drawn chunks, in draw order, bound to its operator
/// account.
pub fn audit_commitment(leaves: &[Hash], auditor: &[u8; 32], salt: &[u8; 32]) -> Hash {
    let mut parts: Vec<&[u8]> = leaves.iter().map(|l| &l[..]).collect();
    parts.push(auditor);
    parts.push(salt);
    sha256(&parts)
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

    #[test]
    fn audit_chunks_are_distinct_in_range_and_fixed_by_the_seed() {
        for n in [1u32, 2, 3, 4, 5, 64, 1000] {
            for s in 0u8..20 {
                let seed = sha256(&[&[s]]);
                let c = audit_chunks(&seed, n, 4);
                assert_eq!(c.len(), 4.min(n) as usize);
                assert!(c.iter().all(|&x| x < n));
                let mut d = c.clone();
                d.sort_unstable();
                d.dedup();
                assert_eq!(d.len(), c.len(), "distinct");
                assert_eq!(audit_chunks(&seed, n, 4), c);
            }
        }
    }

    #[test]
    fn the_draw_rate_is_respected() {
        let drawn = (0u32..4000)
            .filter(|i| audit_drawn(&sha256(&[&i.to_le_bytes()]), 2_500))
            .count();
        assert!((900..1100).contains(&drawn), "{drawn} of 4000 at 25 %");
        assert!(!audit_drawn(&[7; 32], 0));
        assert!(audit_drawn(&[7; 32], 10_000));
    }

    #[test]
    fn an_audit_commitment_binds_every_leaf_its_order_and_the_auditor() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        let c = audit_commitment(&[a, b], &[3; 32], &[4; 32]);
        assert_ne!(c, audit_commitment(&[b, a], &[3; 32], &[4; 32]));
        assert_ne!(c, audit_commitment(&[a, b], &[5; 32], &[4; 32]));
        assert_ne!(c, audit_commitment(&[a], &[3; 32], &[4; 32]));
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
