//! A validated scene flattened into the `#[repr(C)]` arrays that both the CPU tracer and the
//! CUDA kernel read. Everything computed from the scene (camera basis, triangle edges and
//! normals, the bounding volume hierarchy) is computed here, once, on the host: the two
//! backends then read the very same numbers.
//!
//! The layouts must match the structs at the top of `cuda/render.cu`.

use super::math::{fmax, fmin, tan_degrees, V3};
use super::scene::{Material, Scene};
use crate::error::SceneError;

/// Material kinds, as in `render.cu`.
pub const MAT_DIFFUSE: u32 = 0;
pub const MAT_METAL: u32 = 1;
pub const MAT_GLASS: u32 = 2;
pub const MAT_EMISSIVE: u32 = 3;

/// Most BVH nodes on the traversal stack; a median-split tree of `MAX_TRIANGLES` is about 20
/// deep, so this is never reached.
pub const BVH_STACK: usize = 64;
/// Most triangles in a BVH leaf.
pub const BVH_LEAF: usize = 4;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GpuMaterial {
    pub kind: u32,
    /// Albedo (diffuse, metal) or tint (glass).
    pub albedo: [f32; 3],
    pub emit: [f32; 3],
    pub fuzz: f32,
    pub ior: f32,
    pub _pad: [u32; 3],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GpuSphere {
    pub center: [f32; 3],
    pub radius: f32,
    pub material: u32,
    pub _pad: [u32; 3],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GpuPlane {
    pub point: [f32; 3],
    pub material: u32,
    /// Unit normal.
    pub normal: [f32; 3],
    pub _pad: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GpuTriangle {
    pub v0: [f32; 3],
    pub material: u32,
    /// v1 - v0.
    pub e1: [f32; 3],
    pub _pad0: u32,
    /// v2 - v0.
    pub e2: [f32; 3],
    pub _pad1: u32,
    /// unit(e1 × e2).
    pub normal: [f32; 3],
    pub _pad2: u32,
}

/// A BVH node: an inner node (`count == 0`) has children `first` and `first + 1`; a leaf
/// holds triangles `first .. first + count`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GpuBvhNode {
    pub bmin: [f32; 3],
    pub first: u32,
    pub bmax: [f32; 3],
    pub count: u32,
}

/// Scalar parameters of a render launch (passed by value to the kernel).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RenderParams {
    pub width: u32,
    pub height: u32,
    pub samples: u32,
    pub max_bounces: u32,
    pub seed_lo: u32,
    pub seed_hi: u32,
    pub n_spheres: u32,
    pub n_planes: u32,
    pub n_triangles: u32,
    pub n_nodes: u32,
    /// The rectangle rendered by this launch: origin and size, in pixels.
    pub rect_x: u32,
    pub rect_y: u32,
    pub rect_w: u32,
    pub rect_h: u32,
    pub _pad: [u32; 2],
    pub origin: [f32; 3],
    pub _pad0: f32,
    pub lower_left: [f32; 3],
    pub _pad1: f32,
    pub horizontal: [f32; 3],
    pub _pad2: f32,
    pub vertical: [f32; 3],
    pub _pad3: f32,
    pub sky_top: [f32; 3],
    pub _pad4: f32,
    pub sky_bottom: [f32; 3],
    pub _pad5: f32,
}

/// A scene ready to render.
#[derive(Clone, Debug)]
pub struct PreparedScene {
    /// Parameters of the whole image (rect = the full image).
    pub params: RenderParams,
    pub tile_size: u32,
    pub materials: Vec<GpuMaterial>,
    pub spheres: Vec<GpuSphere>,
    pub planes: Vec<GpuPlane>,
    /// Triangles in BVH leaf order.
    pub triangles: Vec<GpuTriangle>,
    /// BVH nodes, root first; empty when there is no triangle.
    pub nodes: Vec<GpuBvhNode>,
}

impl PreparedScene {
    /// Flattens a validated scene.
    pub fn new(scene: &Scene) -> Result<PreparedScene, SceneError> {
        scene.validate()?;
        let cam = &scene.camera;
        let aspect = scene.width as f32 / scene.height as f32;
        let h = tan_degrees(cam.vfov as f64 / 2.0) as f32;
        let viewport_h = 2.0f32 * h;
        let viewport_w = aspect * viewport_h;
        let origin = V3::from_array(cam.look_from);
        let w = (origin - V3::from_array(cam.look_at)).unit();
        let u = V3::from_array(cam.vup).cross(w).unit();
        let v = w.cross(u);
        let horizontal = u * viewport_w;
        let vertical = v * viewport_h;
        let lower_left = origin - horizontal / 2.0 - vertical / 2.0 - w;

        let materials = scene
            .materials
            .iter()
            .map(|m| match *m {
                Material::Diffuse { albedo } => GpuMaterial {
                    kind: MAT_DIFFUSE,
                    albedo,
                    ..Default::default()
                },
                Material::Metal { albedo, fuzz } => GpuMaterial {
                    kind: MAT_METAL,
                    albedo,
                    fuzz,
                    ..Default::default()
                },
                Material::Glass { ior, tint } => GpuMaterial {
                    kind: MAT_GLASS,
                    albedo: tint,
                    ior,
                    ..Default::default()
                },
                Material::Emissive { emit } => GpuMaterial {
                    kind: MAT_EMISSIVE,
                    emit,
                    ..Default::default()
                },
            })
            .collect();
        let spheres = scene
            .spheres
            .iter()
            .map(|s| GpuSphere {
                center: s.center,
                radius: s.radius,
                material: s.material,
                _pad: [0; 3],
            })
            .collect::<Vec<_>>();
        let planes = scene
            .planes
            .iter()
            .map(|p| GpuPlane {
                point: p.point,
                material: p.material,
                normal: V3::from_array(p.normal).unit().to_array(),
                _pad: 0,
            })
            .collect::<Vec<_>>();

        let mut tris = Vec::new();
        for (i, mesh) in scene.meshes.iter().enumerate() {
            let (verts, idx) = mesh.resolve(i)?;
            for t in idx {
                let (a, b, c) = (
                    verts[t[0] as usize],
                    verts[t[1] as usize],
                    verts[t[2] as usize],
                );
                let e1 = b - a;
                let e2 = c - a;
                let n = e1.cross(e2);
                // A degenerate triangle (zero area) can never be hit: drop it.
                if !(n.length_squared() > 0.0) {
                    continue;
                }
                tris.push(GpuTriangle {
                    v0: a.to_array(),
                    material: mesh.material,
                    e1: e1.to_array(),
                    e2: e2.to_array(),
                    normal: n.unit().to_array(),
                    ..Default::default()
                });
            }
        }
        let (triangles, nodes) = build_bvh(tris);

        let params = RenderParams {
            width: scene.width,
            height: scene.height,
            samples: scene.samples_per_pixel,
            max_bounces: scene.max_bounces,
            seed_lo: scene.seed as u32,
            seed_hi: (scene.seed >> 32) as u32,
            n_spheres: spheres.len() as u32,
            n_planes: planes.len() as u32,
            n_triangles: triangles.len() as u32,
            n_nodes: nodes.len() as u32,
            rect_x: 0,
            rect_y: 0,
            rect_w: scene.width,
            rect_h: scene.height,
            origin: origin.to_array(),
            lower_left: lower_left.to_array(),
            horizontal: horizontal.to_array(),
            vertical: vertical.to_array(),
            sky_top: scene.sky.top,
            sky_bottom: scene.sky.bottom,
            ..Default::default()
        };
        Ok(PreparedScene {
            params,
            tile_size: scene.tile_size,
            materials,
            spheres,
            planes,
            triangles,
            nodes,
        })
    }

    /// Parameters for rendering only the rectangle `(x, y, w, h)`.
    pub fn params_for_rect(&self, x: u32, y: u32, w: u32, h: u32) -> RenderParams {
        RenderParams {
            rect_x: x,
            rect_y: y,
            rect_w: w,
            rect_h: h,
            ..self.params
        }
    }
}

fn tri_bounds(t: &GpuTriangle) -> (V3, V3) {
    let a = V3::from_array(t.v0);
    let b = a + V3::from_array(t.e1);
    let c = a + V3::from_array(t.e2);
    (
        V3::new(
            fmin(fmin(a.x, b.x), c.x),
            fmin(fmin(a.y, b.y), c.y),
            fmin(fmin(a.z, b.z), c.z),
        ),
        V3::new(
            fmax(fmax(a.x, b.x), c.x),
            fmax(fmax(a.y, b.y), c.y),
            fmax(fmax(a.z, b.z), c.z),
        ),
    )
}

/// Builds a median-split BVH: each node splits its triangles in two halves of equal count
/// along the longest axis of their centroids (ties broken by index), so the tree is balanced
/// (depth ≤ log2(n / leaf) + 1) and the build is deterministic. Returns the triangles in leaf
/// order and the nodes, root first.
fn build_bvh(tris: Vec<GpuTriangle>) -> (Vec<GpuTriangle>, Vec<GpuBvhNode>) {
    if tris.is_empty() {
        return (tris, Vec::new());
    }
    let bounds: Vec<(V3, V3)> = tris.iter().map(tri_bounds).collect();
    let centroids: Vec<V3> = bounds.iter().map(|(lo, hi)| (*lo + *hi) * 0.5).collect();
    let mut order: Vec<u32> = (0..tris.len() as u32).collect();
    let mut nodes = vec![GpuBvhNode::default()];
    // (node index, start, end) of ranges of `order` still to split.
    let mut work = vec![(0usize, 0usize, tris.len())];
    while let Some((node, start, end)) = work.pop() {
        let mut lo = V3::new(f32::INFINITY, f32::INFINITY, f32::INFINITY);
        let mut hi = V3::new(f32::NEG_INFINITY, f32::NEG_INFINITY, f32::NEG_INFINITY);
        let mut clo = lo;
        let mut chi = hi;
        for &i in &order[start..end] {
            let (a, b) = bounds[i as usize];
            let c = centroids[i as usize];
            lo = V3::new(fmin(lo.x, a.x), fmin(lo.y, a.y), fmin(lo.z, a.z));
            hi = V3::new(fmax(hi.x, b.x), fmax(hi.y, b.y), fmax(hi.z, b.z));
            clo = V3::new(fmin(clo.x, c.x), fmin(clo.y, c.y), fmin(clo.z, c.z));
            chi = V3::new(fmax(chi.x, c.x), fmax(chi.y, c.y), fmax(chi.z, c.z));
        }
        nodes[node].bmin = lo.to_array();
        nodes[node].bmax = hi.to_array();
        let n = end - start;
        if n <= BVH_LEAF {
            nodes[node].first = start as u32;
            nodes[node].count = n as u32;
            continue;
        }
        let ext = chi - clo;
        let axis = if ext.x >= ext.y && ext.x >= ext.z {
            0
        } else if ext.y >= ext.z {
            1
        } else {
            2
        };
        let key = |i: u32| {
            let c = centroids[i as usize];
            [c.x, c.y, c.z][axis]
        };
        order[start..end].sort_unstable_by(|&a, &b| key(a).total_cmp(&key(b)).then(a.cmp(&b)));
        let mid = start + n / 2;
        let left = nodes.len();
        nodes.push(GpuBvhNode::default());
        nodes.push(GpuBvhNode::default());
        nodes[node].first = left as u32;
        nodes[node].count = 0;
        // Pushed right first so the left subtree is laid out first (not needed for
        // correctness, only for locality).
        work.push((left + 1, mid, end));
        work.push((left, start, mid));
    }
    let triangles = order.iter().map(|&i| tris[i as usize]).collect();
    (triangles, nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tri(x: f32) -> GpuTriangle {
        GpuTriangle {
            v0: [x, 0.0, 0.0],
            e1: [1.0, 0.0, 0.0],
            e2: [0.0, 1.0, 0.0],
            normal: [0.0, 0.0, 1.0],
            ..Default::default()
        }
    }

    #[test]
    fn bvh_is_balanced_and_covers_all_triangles() {
        let tris: Vec<_> = (0..1000).map(|i| tri(((i * 37) % 1000) as f32)).collect();
        let (sorted, nodes) = build_bvh(tris);
        assert_eq!(sorted.len(), 1000);
        let mut covered = 0;
        let mut max_depth = 0;
        let mut stack = vec![(0usize, 1usize)];
        while let Some((n, d)) = stack.pop() {
            max_depth = max_depth.max(d);
            let node = nodes[n];
            if node.count > 0 {
                covered += node.count;
                for t in &sorted[node.first as usize..(node.first + node.count) as usize] {
                    let (lo, hi) = tri_bounds(t);
                    assert!(lo.x >= node.bmin[0] && hi.x <= node.bmax[0]);
                }
            } else {
                stack.push((node.first as usize, d + 1));
                stack.push((node.first as usize + 1, d + 1));
            }
        }
        assert_eq!(covered, 1000);
        assert!(max_depth <= 10, "depth {max_depth}");
    }
}
