//! The render kernel: a path tracer over spheres, planes and triangle meshes with diffuse,
//! metal, glass and emissive materials. Input: a JSON scene (`docs/kernels.md`). Output: RGBA8
//! tiles, one per chunk.

// Comparisons are written `!(a > b)` on purpose: they decide NaN the way the CUDA source does.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod json_f32;
pub mod math;
pub mod obj;
pub mod prepared;
pub mod scene;
pub mod tiles;
pub mod trace;

use rayon::prelude::*;

pub use prepared::PreparedScene;
pub use scene::{Camera, Material, Mesh, Plane, Scene, Sky, Sphere};
pub use tiles::{assemble_tiles, encode_png, tile_rect, tiles_to_png};

use crate::error::{KernelError, SceneError};

/// A validated render job.
#[derive(Clone, Debug)]
pub struct RenderWorkload {
    pub scene: Scene,
    pub prepared: PreparedScene,
}

impl RenderWorkload {
    /// Parses, validates and prepares a scene from JSON bytes.
    pub fn from_json(bytes: &[u8]) -> Result<RenderWorkload, SceneError> {
        // `PreparedScene::new` validates.
        RenderWorkload::new(Scene::from_json_unvalidated(bytes)?)
    }

    pub fn new(scene: Scene) -> Result<RenderWorkload, SceneError> {
        let prepared = PreparedScene::new(&scene)?;
        Ok(RenderWorkload { scene, prepared })
    }

    pub fn chunk_count(&self) -> u32 {
        self.scene.chunk_count()
    }

    /// Work estimate: the ray budget (pixels × samples × max bounces) weighted by the cost of
    /// one ray, 1 + (spheres + planes) / 8 + log2(triangles + 1) / 2.
    pub fn work_units(&self) -> u64 {
        let p = &self.prepared.params;
        let prims = (p.n_spheres + p.n_planes) as u128;
        let log_tris = (32 - (p.n_triangles).leading_zeros()) as u128;
        let cost_x8 = 8 + prims + 4 * log_tris;
        let units = self.scene.ray_budget() * cost_x8 / 8;
        units.min(u64::MAX as u128) as u64
    }

    /// (x, y, w, h) of tile `index`.
    pub fn tile_rect(&self, index: u32) -> (u32, u32, u32, u32) {
        tiles::tile_rect(
            self.scene.width,
            self.scene.height,
            self.scene.tile_size,
            index,
        )
    }

    /// Renders one tile on the CPU (all cores).
    pub fn render_tile_cpu(&self, index: u32) -> Result<Vec<u8>, KernelError> {
        let count = self.chunk_count();
        if index >= count {
            return Err(KernelError::ChunkOutOfRange { index, count });
        }
        Ok(self.tile_cpu(index))
    }

    fn tile_cpu(&self, index: u32) -> Vec<u8> {
        let (x, y, w, h) = self.tile_rect(index);
        let rows: Vec<Vec<u8>> = (0..h)
            .into_par_iter()
            .map(|r| trace::render_rect(&self.prepared, x, y + r, w, 1))
            .collect();
        rows.concat()
    }

    /// Renders every tile on the CPU (all cores of the current rayon pool).
    pub fn render_cpu(&self) -> Vec<Vec<u8>> {
        (0..self.chunk_count())
            .into_par_iter()
            .map(|i| self.tile_cpu(i))
            .collect()
    }
}
