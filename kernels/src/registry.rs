//! The kernel registry: the one place where kernel ids are defined.
//!
//! A job stores its kernel as a `u8` on chain and an operator advertises the kernels it runs as a
//! capability bitmask (`1 << id`). The numbers below are part of the protocol: never renumber a
//! kernel, only append new ones. This module has no dependencies so that the program, the client
//! and the worker can all refer to the same numbers: it uses `core` only, so a `no_std` crate
//! (the on-chain program) can include this very file.

use core::fmt;

/// A kernel that a Tessera job can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum KernelId {
    /// Path tracer: a JSON scene in, RGBA8 tiles out.
    Render = 1,
    /// One quantized int8 matrix product (one layer), row blocks of int8 out.
    GemmI8 = 2,
    /// A chain of quantized int8 layers with ReLU, row blocks of int8 out.
    MlpI8 = 3,
    /// The fixed scoring workload (a small scene and a small MLP) with a known root.
    Benchmark = 4,
}

impl KernelId {
    /// Every kernel, in id order.
    pub const ALL: [KernelId; 4] = [
        KernelId::Render,
        KernelId::GemmI8,
        KernelId::MlpI8,
        KernelId::Benchmark,
    ];

    /// The stable id stored on chain.
    pub const fn id(self) -> u8 {
        self as u8
    }

    /// This kernel's bit in a capability bitmask (`1 << id`), the type of the on-chain
    /// `Operator::capabilities`.
    pub const fn mask(self) -> u32 {
        1u32 << (self as u8)
    }

    /// The bitmask of every kernel this crate implements.
    pub const fn all_mask() -> u32 {
        let mut m = 0u32;
        let mut i = 0;
        while i < Self::ALL.len() {
            m |= Self::ALL[i].mask();
            i += 1;
        }
        m
    }

    /// Whether `capabilities` (a bitmask) includes this kernel.
    pub const fn is_in(self, capabilities: u32) -> bool {
        capabilities & self.mask() != 0
    }

    /// The bitmask of `kernels`.
    pub fn mask_of(kernels: impl IntoIterator<Item = KernelId>) -> u32 {
        kernels.into_iter().fold(0, |m, k| m | k.mask())
    }

    /// The kernels whose bits `capabilities` has, in id order (bits that name no kernel are
    /// left out).
    pub fn in_mask(capabilities: u32) -> impl Iterator<Item = KernelId> {
        Self::ALL.into_iter().filter(move |k| k.is_in(capabilities))
    }

    /// Whether a job of kernel id `kernel` (as stored on chain) is in `capabilities`; an id that
    /// names no kernel is in no mask.
    pub fn id_is_in(kernel: u8, capabilities: u32) -> bool {
        KernelId::try_from(kernel).is_ok_and(|k| k.is_in(capabilities))
    }

    /// The kernel's short name, as used in file names, logs and the CLI.
    pub const fn name(self) -> &'static str {
        match self {
            KernelId::Render => "render",
            KernelId::GemmI8 => "gemm-i8",
            KernelId::MlpI8 => "mlp-i8",
            KernelId::Benchmark => "benchmark",
        }
    }

    /// Looks a kernel up by its short name.
    pub fn from_name(name: &str) -> Option<KernelId> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for KernelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `u8` that names no kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownKernel(pub u8);

impl fmt::Display for UnknownKernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown kernel id {}", self.0)
    }
}

impl core::error::Error for UnknownKernel {}

impl TryFrom<u8> for KernelId {
    type Error = UnknownKernel;

    fn try_from(v: u8) -> Result<Self, Self::Error> {
        match v {
            1 => Ok(KernelId::Render),
            2 => Ok(KernelId::GemmI8),
            3 => Ok(KernelId::MlpI8),
            4 => Ok(KernelId::Benchmark),
            other => Err(UnknownKernel(other)),
        }
    }
}

impl From<KernelId> for u8 {
    fn from(k: KernelId) -> u8 {
        k as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable() {
        assert_eq!(KernelId::Render.id(), 1);
        assert_eq!(KernelId::GemmI8.id(), 2);
        assert_eq!(KernelId::MlpI8.id(), 3);
        assert_eq!(KernelId::Benchmark.id(), 4);
        assert_eq!(KernelId::all_mask(), 0b11110);
    }

    #[test]
    fn round_trips() {
        for k in KernelId::ALL {
            assert_eq!(KernelId::try_from(k.id()), Ok(k));
            assert_eq!(KernelId::from_name(k.name()), Some(k));
            assert!(k.is_in(k.mask()));
        }
        assert_eq!(KernelId::try_from(0), Err(UnknownKernel(0)));
        assert_eq!(KernelId::try_from(5), Err(UnknownKernel(5)));
        assert_eq!(KernelId::from_name("nope"), None);
    }

    #[test]
    fn masks_and_names() {
        assert_eq!(KernelId::mask_of([]), 0);
        assert_eq!(
            KernelId::mask_of([KernelId::Render, KernelId::MlpI8]),
            0b1010
        );
        assert_eq!(KernelId::mask_of(KernelId::ALL), KernelId::all_mask());
        assert_eq!(
            KernelId::in_mask(0b1010).collect::<Vec<_>>(),
            [KernelId::Render, KernelId::MlpI8]
        );
        // Bits that name no kernel (0, 5 and up) are not kernels.
        assert_eq!(
            KernelId::in_mask(u32::MAX).collect::<Vec<_>>(),
            KernelId::ALL
        );
        assert_eq!(KernelId::in_mask(0b1 | 1 << 5).count(), 0);
        assert!(KernelId::id_is_in(1, 0b10));
        assert!(!KernelId::id_is_in(2, 0b10));
        assert!(!KernelId::id_is_in(0, u32::MAX));
        assert!(!KernelId::id_is_in(31, u32::MAX));
        assert!(!KernelId::id_is_in(200, u32::MAX));
    }
}
