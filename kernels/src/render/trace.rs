//! The CPU reference of the path tracer. `cuda/render.cu` is a line-by-line port of this file:
//! change one, change the other, and the CPU-vs-GPU test tells whether they still agree.

use super::math::{fmax, fmin, V3};
use super::prepared::{
    GpuBvhNode, GpuMaterial, PreparedScene, RenderParams, BVH_STACK, MAT_DIFFUSE, MAT_EMISSIVE,
    MAT_GLASS, MAT_METAL,
};

/// Rays start this far from the surface they leave (self-intersection guard).
pub const T_MIN: f32 = 1.0e-3;
/// No hit beyond this distance.
pub const T_MAX: f32 = 1.0e30;

/// The PCG-RXS-M-XS 32-bit hash (Jarzynski & Olano 2020).
#[inline(always)]
pub fn pcg_hash(x: u32) -> u32 {
    let state = x.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    let word = ((state >> ((state >> 28) + 4)) ^ state).wrapping_mul(277_803_737);
    (word >> 22) ^ word
}

/// Hash of (seed, pixel): the root of every random stream of one pixel.
#[inline(always)]
pub fn pixel_key(p: &RenderParams, pixel: u32) -> u32 {
    pcg_hash(pcg_hash(p.seed_lo ^ pcg_hash(p.seed_hi)) ^ pixel)
}

/// A PCG random stream, one per (seed, pixel, sample, bounce).
pub struct Rng {
    state: u32,
}

impl Rng {
    #[inline(always)]
    pub fn new(pixel_key: u32, sample: u32, bounce: u32) -> Rng {
        Rng {
            state: pcg_hash(pcg_hash(pixel_key ^ sample) ^ bounce),
        }
    }

    #[inline(always)]
    pub fn next_u32(&mut self) -> u32 {
        self.state = self
            .state
            .wrapping_mul(747_796_405)
            .wrapping_add(2_891_336_453);
        let s = self.state;
        let word = ((s >> ((s >> 28) + 4)) ^ s).wrapping_mul(277_803_737);
        (word >> 22) ^ word
    }

    /// Uniform in [0, 1): the top 24 bits, exactly scaled by 2^-24.
    #[inline(always)]
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0f32 / 16_777_216.0f32)
    }
}

/// A uniformly random unit vector by rejection from the cube (at most 32 tries, then +z).
#[inline(always)]
fn random_unit_vector(rng: &mut Rng) -> V3 {
    let mut i = 0;
    while i < 32 {
        let p = V3::new(
            2.0f32 * rng.next_f32() - 1.0f32,
            2.0f32 * rng.next_f32() - 1.0f32,
            2.0f32 * rng.next_f32() - 1.0f32,
        );
        let l2 = p.length_squared();
        if l2 > 1.0e-12f32 && l2 <= 1.0f32 {
            return p / l2.sqrt();
        }
        i += 1;
    }
    V3::new(0.0, 0.0, 1.0)
}

#[inline(always)]
fn reflect(v: V3, n: V3) -> V3 {
    let k = 2.0f32 * v.dot(n);
    v - n * k
}

#[inline(always)]
fn refract(uv: V3, n: V3, eta: f32) -> V3 {
    let cos_t = fmin((-uv).dot(n), 1.0f32);
    let r_perp = (uv + n * cos_t) * eta;
    let k = -(1.0f32 - r_perp.length_squared()).abs().sqrt();
    r_perp + n * k
}

#[inline(always)]
fn schlick(cosine: f32, ratio: f32) -> f32 {
    let mut r0 = (1.0f32 - ratio) / (1.0f32 + ratio);
    r0 = r0 * r0;
    let m = 1.0f32 - cosine;
    r0 + (1.0f32 - r0) * (m * m * m * m * m)
}

#[inline(always)]
fn hit_aabb(node: &GpuBvhNode, o: V3, inv: V3, closest: f32) -> bool {
    let tx0 = (node.bmin[0] - o.x) * inv.x;
    let tx1 = (node.bmax[0] - o.x) * inv.x;
    let mut tmin = fmin(tx0, tx1);
    let mut tmax = fmax(tx0, tx1);
    let ty0 = (node.bmin[1] - o.y) * inv.y;
    let ty1 = (node.bmax[1] - o.y) * inv.y;
    tmin = fmax(tmin, fmin(ty0, ty1));
    tmax = fmin(tmax, fmax(ty0, ty1));
    let tz0 = (node.bmin[2] - o.z) * inv.z;
    let tz1 = (node.bmax[2] - o.z) * inv.z;
    tmin = fmax(tmin, fmin(tz0, tz1));
    tmax = fmin(tmax, fmax(tz0, tz1));
    tmax >= tmin && tmax > T_MIN && tmin < closest
}

const HIT_NONE: u32 = 0;
const HIT_SPHERE: u32 = 1;
const HIT_PLANE: u32 = 2;
const HIT_TRIANGLE: u32 = 3;

/// The closest hit along a ray: (kind, index, t).
#[inline(always)]
fn intersect(s: &PreparedScene, o: V3, d: V3) -> (u32, u32, f32) {
    let mut closest = T_MAX;
    let mut kind = HIT_NONE;
    let mut index = 0u32;

    for (i, sp) in s.spheres.iter().enumerate() {
        let c = V3::from_array(sp.center);
        let oc = o - c;
        let a = d.dot(d);
        let half_b = oc.dot(d);
        let cc = oc.dot(oc) - sp.radius * sp.radius;
        let disc = half_b * half_b - a * cc;
        if disc < 0.0f32 {
            continue;
        }
        let sq = disc.sqrt();
        let mut root = (-half_b - sq) / a;
        if !(root > T_MIN && root < closest) {
            root = (-half_b + sq) / a;
            if !(root > T_MIN && root < closest) {
                continue;
            }
        }
        closest = root;
        kind = HIT_SPHERE;
        index = i as u32;
    }

    for (i, pl) in s.planes.iter().enumerate() {
        let n = V3::from_array(pl.normal);
        let denom = n.dot(d);
        if denom.abs() < 1.0e-8f32 {
            continue;
        }
        let t = (V3::from_array(pl.point) - o).dot(n) / denom;
        if t > T_MIN && t < closest {
            closest = t;
            kind = HIT_PLANE;
            index = i as u32;
        }
    }

    if !s.nodes.is_empty() {
        let inv = V3::new(1.0f32 / d.x, 1.0f32 / d.y, 1.0f32 / d.z);
        let mut stack = [0u32; BVH_STACK];
        let mut sp = 1usize;
        while sp > 0 {
            sp -= 1;
            let node = &s.nodes[stack[sp] as usize];
            if !hit_aabb(node, o, inv, closest) {
                continue;
            }
            if node.count > 0 {
                for ti in node.first..node.first + node.count {
                    let tr = &s.triangles[ti as usize];
                    let e1 = V3::from_array(tr.e1);
                    let e2 = V3::from_array(tr.e2);
                    let pvec = d.cross(e2);
                    let det = e1.dot(pvec);
                    if det == 0.0f32 {
                        continue;
                    }
                    let inv_det = 1.0f32 / det;
                    let sv = o - V3::from_array(tr.v0);
                    let u = sv.dot(pvec) * inv_det;
                    if u < 0.0f32 || u > 1.0f32 {
                        continue;
                    }
                    let q = sv.cross(e1);
                    let v = d.dot(q) * inv_det;
                    if v < 0.0f32 || u + v > 1.0f32 {
                        continue;
                    }
                    let t = e2.dot(q) * inv_det;
                    if t > T_MIN && t < closest {
                        closest = t;
                        kind = HIT_TRIANGLE;
                        index = ti;
                    }
                }
            } else if sp + 2 <= BVH_STACK {
                stack[sp] = node.first + 1;
                stack[sp + 1] = node.first;
                sp += 2;
            }
        }
    }
    (kind, index, closest)
}

/// Radiance of one camera sample of pixel (px, py), and the number of rays it traced.
#[inline(always)]
fn sample(s: &PreparedScene, p: &RenderParams, key: u32, px: u32, py: u32, si: u32) -> (V3, u32) {
    let mut rng = Rng::new(key, si, 0);
    let rx = rng.next_f32();
    let ry = rng.next_f32();
    let u = (px as f32 + rx) / p.width as f32;
    let v = ((p.height - 1 - py) as f32 + ry) / p.height as f32;
    let dir = V3::from_array(p.lower_left)
        + V3::from_array(p.horizontal) * u
        + V3::from_array(p.vertical) * v
        - V3::from_array(p.origin);
    let mut o = V3::from_array(p.origin);
    let mut d = dir.unit();
    let mut throughput = V3::ONE;
    let mut radiance = V3::ZERO;

    let mut bounce = 0u32;
    let mut rays = 0u32;
    while bounce < p.max_bounces {
        rays += 1;
        let (kind, index, t) = intersect(s, o, d);
        if kind == HIT_NONE {
            let k = 0.5f32 * (d.y + 1.0f32);
            let sky = V3::from_array(p.sky_bottom) * (1.0f32 - k) + V3::from_array(p.sky_top) * k;
            radiance = radiance + throughput.hadamard(sky);
            break;
        }
        let hit = o + d * t;
        let (outward, mat_index) = match kind {
            HIT_SPHERE => {
                let sp = &s.spheres[index as usize];
                ((hit - V3::from_array(sp.center)) / sp.radius, sp.material)
            }
            HIT_PLANE => {
                let pl = &s.planes[index as usize];
                (V3::from_array(pl.normal), pl.material)
            }
            _ => {
                let tr = &s.triangles[index as usize];
                (V3::from_array(tr.normal), tr.material)
            }
        };
        let m: &GpuMaterial = &s.materials[mat_index as usize];
        if m.kind == MAT_EMISSIVE {
            radiance = radiance + throughput.hadamard(V3::from_array(m.emit));
            break;
        }
        let front = d.dot(outward) < 0.0f32;
        let n = if front { outward } else { -outward };
        let mut rng = Rng::new(key, si, bounce + 1);
        let next;
        if m.kind == MAT_DIFFUSE {
            let mut dir = n + random_unit_vector(&mut rng);
            if dir.x.abs() < 1.0e-8f32 && dir.y.abs() < 1.0e-8f32 && dir.z.abs() < 1.0e-8f32 {
                dir = n;
            }
            next = dir;
        } else if m.kind == MAT_METAL {
            let dir = reflect(d, n) + random_unit_vector(&mut rng) * m.fuzz;
            if !(dir.dot(n) > 0.0f32) {
                break;
            }
            next = dir;
        } else if m.kind == MAT_GLASS {
            let ratio = if front { 1.0f32 / m.ior } else { m.ior };
            let cos_t = fmin((-d).dot(n), 1.0f32);
            let sin_t = (1.0f32 - cos_t * cos_t).sqrt();
            let cannot = ratio * sin_t > 1.0f32;
            if cannot || schlick(cos_t, ratio) > rng.next_f32() {
                next = reflect(d, n);
            } else {
                next = refract(d, n, ratio);
            }
        } else {
            break;
        }
        throughput = throughput.hadamard(V3::from_array(m.albedo));
        o = hit;
        d = next.unit();
        bounce += 1;
    }
    (radiance, rays)
}

/// Mean radiance to a byte: 0 for NaN or ≤ 0, 255 for ≥ 1, else ⌊√c · 255 + 0.5⌋ (gamma 2).
#[inline(always)]
pub fn to_byte(c: f32) -> u8 {
    if !(c > 0.0f32) {
        0
    } else if c >= 1.0f32 {
        255
    } else {
        (c.sqrt() * 255.0f32 + 0.5f32) as u32 as u8
    }
}

/// The RGBA8 colour of pixel (px, py) of the image, and the number of rays traced for it.
#[inline]
pub fn shade_pixel_counted(s: &PreparedScene, px: u32, py: u32) -> ([u8; 4], u64) {
    let p = &s.params;
    let key = pixel_key(p, py * p.width + px);
    let mut sum = V3::ZERO;
    let mut rays = 0u64;
    for si in 0..p.samples {
        let (radiance, n) = sample(s, p, key, px, py, si);
        sum = sum + radiance;
        rays += n as u64;
    }
    let mean = sum / p.samples as f32;
    (
        [to_byte(mean.x), to_byte(mean.y), to_byte(mean.z), 255],
        rays,
    )
}

/// The RGBA8 colour of pixel (px, py) of the image.
#[inline]
pub fn shade_pixel(s: &PreparedScene, px: u32, py: u32) -> [u8; 4] {
    shade_pixel_counted(s, px, py).0
}

/// Number of rays the render of the rectangle (x, y, w, h) traces (for benchmarks).
pub fn count_rays(s: &PreparedScene, x: u32, y: u32, w: u32, h: u32) -> u64 {
    let mut rays = 0;
    for row in y..y + h {
        for col in x..x + w {
            rays += shade_pixel_counted(s, col, row).1;
        }
    }
    rays
}

/// Renders the rectangle (x, y, w, h) to RGBA8, rows top to bottom, on the calling thread.
pub fn render_rect(s: &PreparedScene, x: u32, y: u32, w: u32, h: u32) -> Vec<u8> {
    let mut out = vec![0u8; (w * h * 4) as usize];
    for row in 0..h {
        for col in 0..w {
            let px = shade_pixel(s, x + col, y + row);
            let o = ((row * w + col) * 4) as usize;
            out[o..o + 4].copy_from_slice(&px);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_conversion_is_exact_at_the_edges() {
        assert_eq!(to_byte(f32::NAN), 0);
        assert_eq!(to_byte(-1.0), 0);
        assert_eq!(to_byte(0.0), 0);
        assert_eq!(to_byte(1.0), 255);
        assert_eq!(to_byte(7.0), 255);
        assert_eq!(to_byte(0.25), 128); // 0.5 * 255 + 0.5 = 128.0
        assert_eq!(to_byte(f32::MIN_POSITIVE), 0);
        assert_eq!(to_byte(0.999_999), 255);
    }

    #[test]
    fn rng_is_uniform_enough() {
        let mut r = Rng::new(pcg_hash(7), 3, 1);
        let n = 100_000;
        let mean: f64 = (0..n).map(|_| r.next_f32() as f64).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
    }
}
