//! f32 vector arithmetic of the path tracer, written to match `cuda/render.cu` operation for
//! operation: IEEE `+ - * /` and `sqrt` only, evaluated left to right, never fused.
//!
//! Rust never contracts `a * b + c` into a fused multiply-add, and NVRTC does not either under
//! `--fmad=false`, so the same expression gives the same bits on both sides. `min`/`max` are
//! written as comparisons so that both sides treat NaN alike.

use core::ops::{Add, Div, Mul, Neg, Sub};

/// A 3-vector of f32.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct V3 {
    pub x: f32,
    pub y: f32,
    pub z: f32,
}

impl V3 {
    pub const ZERO: V3 = V3::new(0.0, 0.0, 0.0);
    pub const ONE: V3 = V3::new(1.0, 1.0, 1.0);

    pub const fn new(x: f32, y: f32, z: f32) -> V3 {
        V3 { x, y, z }
    }

    pub const fn from_array(a: [f32; 3]) -> V3 {
        V3::new(a[0], a[1], a[2])
    }

    pub const fn to_array(self) -> [f32; 3] {
        [self.x, self.y, self.z]
    }

    /// `(x*x' + y*y') + z*z'`.
    #[inline(always)]
    pub fn dot(self, o: V3) -> f32 {
        self.x * o.x + self.y * o.y + self.z * o.z
    }

    #[inline(always)]
    pub fn cross(self, o: V3) -> V3 {
        V3::new(
            self.y * o.z - self.z * o.y,
            self.z * o.x - self.x * o.z,
            self.x * o.y - self.y * o.x,
        )
    }

    #[inline(always)]
    pub fn length_squared(self) -> f32 {
        self.dot(self)
    }

    #[inline(always)]
    pub fn length(self) -> f32 {
        self.length_squared().sqrt()
    }

    /// Each component divided by the length (three divisions, not a reciprocal).
    #[inline(always)]
    pub fn unit(self) -> V3 {
        let l = self.length();
        V3::new(self.x / l, self.y / l, self.z / l)
    }

    /// Component-wise product.
    #[inline(always)]
    pub fn hadamard(self, o: V3) -> V3 {
        V3::new(self.x * o.x, self.y * o.y, self.z * o.z)
    }

    pub fn is_finite_within(self, max_abs: f32) -> bool {
        [self.x, self.y, self.z]
            .iter()
            .all(|c| c.is_finite() && c.abs() <= max_abs)
    }
}

impl Add for V3 {
    type Output = V3;
    #[inline(always)]
    fn add(self, o: V3) -> V3 {
        V3::new(self.x + o.x, self.y + o.y, self.z + o.z)
    }
}

impl Sub for V3 {
    type Output = V3;
    #[inline(always)]
    fn sub(self, o: V3) -> V3 {
        V3::new(self.x - o.x, self.y - o.y, self.z - o.z)
    }
}

impl Mul<f32> for V3 {
    type Output = V3;
    #[inline(always)]
    fn mul(self, s: f32) -> V3 {
        V3::new(self.x * s, self.y * s, self.z * s)
    }
}

/// Component-wise quotient by a scalar (three divisions).
impl Div<f32> for V3 {
    type Output = V3;
    #[inline(always)]
    fn div(self, s: f32) -> V3 {
        V3::new(self.x / s, self.y / s, self.z / s)
    }
}

impl Neg for V3 {
    type Output = V3;
    #[inline(always)]
    fn neg(self) -> V3 {
        V3::new(-self.x, -self.y, -self.z)
    }
}

/// `a < b ? a : b`, as in the CUDA source.
#[inline(always)]
pub fn fmin(a: f32, b: f32) -> f32 {
    if a < b {
        a
    } else {
        b
    }
}

/// `a > b ? a : b`, as in the CUDA source.
#[inline(always)]
pub fn fmax(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

/// tan of an angle in degrees in (0, 90), from Taylor series of sin and cos in f64 with basic
/// IEEE operations only, so that every platform computes the same camera (no libm).
pub fn tan_degrees(deg: f64) -> f64 {
    const PI: f64 = core::f64::consts::PI;
    let x = deg * PI / 180.0;
    let x2 = x * x;
    // sin x = x (1 - x²/(2·3) (1 - x²/(4·5) (1 - …))), cos x = 1 - x²/(1·2) (1 - x²/(3·4) (…)).
    let mut s = 1.0f64;
    let mut c = 1.0f64;
    let mut k = 24.0f64;
    while k >= 2.0 {
        s = 1.0 - x2 / ((k) * (k + 1.0)) * s;
        c = 1.0 - x2 / ((k - 1.0) * k) * c;
        k -= 2.0;
    }
    (x * s) / c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tan_matches_libm_closely() {
        for deg in [1.0f64, 10.0, 20.0, 30.0, 40.0, 45.0, 60.0, 80.0, 89.0] {
            let ours = tan_degrees(deg);
            let libm = deg.to_radians().tan();
            assert!(
                ((ours - libm) / libm).abs() < 1e-12,
                "{deg}: {ours} vs {libm}"
            );
        }
    }
}
