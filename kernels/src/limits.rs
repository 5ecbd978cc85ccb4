//! Limits on job inputs. An input beyond any of them is rejected before any work starts.

/// Largest scene JSON document, in bytes.
pub const MAX_SCENE_BYTES: usize = 64 << 20;
/// Largest OBJ text of one mesh, in bytes.
pub const MAX_OBJ_BYTES: usize = 32 << 20;
/// Largest image side, in pixels.
pub const MAX_IMAGE_SIDE: u32 = 8192;
/// Most samples per pixel.
pub const MAX_SAMPLES: u32 = 65_536;
/// Most ray segments per path.
pub const MAX_BOUNCES: u32 = 64;
/// Tile side range, in pixels.
pub const MIN_TILE_SIZE: u32 = 8;
pub const MAX_TILE_SIZE: u32 = 1024;
/// Most materials in a scene.
pub const MAX_MATERIALS: usize = 1024;
/// Most spheres in a scene (they are tested one by one, so they are kept few).
pub const MAX_SPHERES: usize = 1024;
/// Most planes in a scene.
pub const MAX_PLANES: usize = 64;
/// Most meshes in a scene.
pub const MAX_MESHES: usize = 256;
/// Most triangles, all meshes together (they sit in a bounding volume hierarchy).
pub const MAX_TRIANGLES: usize = 1 << 20;
/// Most vertices, all meshes together.
pub const MAX_VERTICES: usize = 1 << 21;
/// Largest absolute value of any coordinate or length in a scene.
pub const MAX_COORD: f32 = 1.0e6;
/// Largest emitted radiance component.
pub const MAX_EMISSION: f32 = 1.0e4;
/// Most rays a render job may trace: width × height × samples × max_bounces.
pub const MAX_RENDER_RAYS: u128 = 1 << 40;

/// Largest model file, in bytes.
pub const MAX_MODEL_BYTES: usize = 512 << 20;
/// Most layers of an MLP.
pub const MAX_LAYERS: u64 = tessera_int8::model::MAX_LAYERS as u64;
/// Most input rows (the batch).
pub const MAX_ROWS: u64 = 1 << 20;
/// Largest layer width (input features K or output features N). With |x - zp| ≤ 255,
/// |w| ≤ 128 and |bias| ≤ 2^30, a K of at most 16384 keeps every int32 partial sum exact.
pub const MAX_FEATURES: u64 = 16_384;
/// Largest activation matrix (rows × features) of any layer, in elements.
pub const MAX_ACTIVATIONS: u64 = 1 << 28;
/// Largest weight matrix of one layer, in elements.
pub const MAX_WEIGHTS: u64 = 1 << 26;
/// Largest |bias|.
pub const MAX_ABS_BIAS: i64 = 1 << 30;
/// Most multiply-accumulates of a quantized job.
pub const MAX_MACS: u128 = 1 << 42;

/// Largest input a job of `kernel` may have, in bytes: its parser refuses anything larger, so
/// a reader can refuse a larger blob from its size alone, before reading any of it.
pub fn max_input_bytes(kernel: crate::KernelId) -> u64 {
    (match kernel {
        crate::KernelId::Render => MAX_SCENE_BYTES,
        crate::KernelId::GemmI8 | crate::KernelId::MlpI8 => MAX_MODEL_BYTES,
        crate::KernelId::Benchmark => 0,
    }) as u64
}
