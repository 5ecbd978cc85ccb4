//! The scene format (JSON, see `docs/kernels.md`) and its validation.

use serde::{Deserialize, Deserializer, Serialize};

use super::json_f32;
use super::math::V3;
use super::obj;
use crate::error::SceneError;
use crate::limits;

fn default_tile_size() -> u32 {
    32
}
fn default_max_bounces() -> u32 {
    8
}
fn default_vup() -> [f32; 3] {
    [0.0, 1.0, 0.0]
}
fn default_one3() -> [f32; 3] {
    [1.0, 1.0, 1.0]
}
fn default_zero3() -> [f32; 3] {
    [0.0, 0.0, 0.0]
}

/// A scene and the parameters of its render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scene {
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// Samples per pixel.
    pub samples_per_pixel: u32,
    /// Most ray segments per path (a path that has not reached a light or the sky by then
    /// contributes nothing more).
    #[serde(default = "default_max_bounces")]
    pub max_bounces: u32,
    /// Seed of the random numbers.
    #[serde(default)]
    pub seed: u64,
    /// Side of a square tile (one output chunk), in pixels.
    #[serde(default = "default_tile_size")]
    pub tile_size: u32,
    pub camera: Camera,
    #[serde(default)]
    pub sky: Sky,
    pub materials: Vec<Material>,
    #[serde(default)]
    pub spheres: Vec<Sphere>,
    #[serde(default)]
    pub planes: Vec<Plane>,
    #[serde(default)]
    pub meshes: Vec<Mesh>,
}

/// A pinhole camera.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Camera {
    #[serde(deserialize_with = "json_f32::vec3")]
    pub look_from: [f32; 3],
    #[serde(deserialize_with = "json_f32::vec3")]
    pub look_at: [f32; 3],
    #[serde(default = "default_vup", deserialize_with = "json_f32::vec3")]
    pub vup: [f32; 3],
    /// Vertical field of view in degrees, in [1, 179].
    #[serde(deserialize_with = "json_f32::f32")]
    pub vfov: f32,
}

/// The colour of rays that leave the scene: a vertical gradient from `bottom` (looking
/// straight down) to `top` (looking straight up).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sky {
    #[serde(deserialize_with = "json_f32::vec3")]
    pub top: [f32; 3],
    #[serde(deserialize_with = "json_f32::vec3")]
    pub bottom: [f32; 3],
}

impl Default for Sky {
    fn default() -> Self {
        Sky {
            top: [0.5, 0.7, 1.0],
            bottom: [1.0, 1.0, 1.0],
        }
    }
}

/// A surface material. Written as JSON with a `"type"` field; read by hand
/// ([`MaterialFields`]) so that its numbers, like every scene number, come from their text.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Material {
    /// Lambertian reflector.
    Diffuse { albedo: [f32; 3] },
    /// Mirror with a fuzzy reflection (`fuzz` in [0, 1]).
    Metal {
        albedo: [f32; 3],
        #[serde(default)]
        fuzz: f32,
    },
    /// Dielectric with index of refraction `ior` in [1, 4], tinted by `tint`.
    Glass {
        ior: f32,
        #[serde(default = "default_one3")]
        tint: [f32; 3],
    },
    /// Light source: emits `emit`, scatters nothing.
    Emissive { emit: [f32; 3] },
}

/// Every field any material may have, each number read from its text: the form a material is
/// read in before its `type` says which fields it must have.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MaterialFields {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, deserialize_with = "some_vec3")]
    albedo: Option<[f32; 3]>,
    #[serde(default, deserialize_with = "some_f32")]
    fuzz: Option<f32>,
    #[serde(default, deserialize_with = "some_f32")]
    ior: Option<f32>,
    #[serde(default, deserialize_with = "some_vec3")]
    tint: Option<[f32; 3]>,
    #[serde(default, deserialize_with = "some_vec3")]
    emit: Option<[f32; 3]>,
}

fn some_f32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f32>, D::Error> {
    json_f32::f32(d).map(Some)
}

fn some_vec3<'de, D: Deserializer<'de>>(d: D) -> Result<Option<[f32; 3]>, D::Error> {
    json_f32::vec3(d).map(Some)
}

impl<'de> Deserialize<'de> for Material {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Material, D::Error> {
        use serde::de::Error;
        const KINDS: &[&str] = &["diffuse", "metal", "glass", "emissive"];
        let f = MaterialFields::deserialize(d)?;
        let allowed: &[&'static str] = match f.kind.as_str() {
            "diffuse" => &["albedo"],
            "metal" => &["albedo", "fuzz"],
            "glass" => &["ior", "tint"],
            "emissive" => &["emit"],
            other => return Err(D::Error::unknown_variant(other, KINDS)),
        };
        let present = [
            ("albedo", f.albedo.is_some()),
            ("fuzz", f.fuzz.is_some()),
            ("ior", f.ior.is_some()),
            ("tint", f.tint.is_some()),
            ("emit", f.emit.is_some()),
        ];
        if let Some((name, _)) = present
            .iter()
            .find(|(name, there)| *there && !allowed.contains(name))
        {
            return Err(D::Error::unknown_field(name, allowed));
        }
        let need = |v: Option<[f32; 3]>, name: &'static str| {
            v.ok_or_else(|| D::Error::missing_field(name))
        };
        Ok(match f.kind.as_str() {
            "diffuse" => Material::Diffuse {
                albedo: need(f.albedo, "albedo")?,
            },
            "metal" => Material::Metal {
                albedo: need(f.albedo, "albedo")?,
                fuzz: f.fuzz.unwrap_or(0.0),
            },
            "glass" => Material::Glass {
                ior: f.ior.ok_or_else(|| D::Error::missing_field("ior"))?,
                tint: f.tint.unwrap_or_else(default_one3),
            },
            _ => Material::Emissive {
                emit: need(f.emit, "emit")?,
            },
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sphere {
    #[serde(deserialize_with = "json_f32::vec3")]
    pub center: [f32; 3],
    #[serde(deserialize_with = "json_f32::f32")]
    pub radius: f32,
    pub material: u32,
}

/// An infinite plane through `point`, facing `normal`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plane {
    #[serde(deserialize_with = "json_f32::vec3")]
    pub point: [f32; 3],
    #[serde(deserialize_with = "json_f32::vec3")]
    pub normal: [f32; 3],
    pub material: u32,
}

/// A triangle mesh, given either inline (`vertices` + `triangles`) or as OBJ text (`obj`),
/// then scaled component-wise by `scale` and moved by `translate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mesh {
    #[serde(default, deserialize_with = "json_f32::vec3s")]
    pub vertices: Vec<[f32; 3]>,
    /// Vertex indices (from 0) of each triangle.
    #[serde(default)]
    pub triangles: Vec<[u32; 3]>,
    /// OBJ text (the subset in `docs/kernels.md`), instead of `vertices` + `triangles`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obj: Option<String>,
    #[serde(default = "default_one3", deserialize_with = "json_f32::vec3")]
    pub scale: [f32; 3],
    #[serde(default = "default_zero3", deserialize_with = "json_f32::vec3")]
    pub translate: [f32; 3],
    pub material: u32,
}

fn range_u32(field: &str, v: u32, min: u32, max: u32) -> Result<(), SceneError> {
    if v < min || v > max {
        return Err(SceneError::OutOfRange {
            field: field.into(),
            value: v as f64,
            min: min as f64,
            max: max as f64,
        });
    }
    Ok(())
}

/// `TooMany` when a scene has more than `max` of `what` (`count` of them).
pub(crate) fn at_most(what: &'static str, count: usize, max: usize) -> Result<(), SceneError> {
    if count > max {
        return Err(SceneError::TooMany { what, count, max });
    }
    Ok(())
}

fn range_f32(field: &str, v: f32, min: f32, max: f32) -> Result<(), SceneError> {
    // Written so that NaN fails.
    if !(v >= min && v <= max) {
        return Err(SceneError::OutOfRange {
            field: field.into(),
            value: v as f64,
            min: min as f64,
            max: max as f64,
        });
    }
    Ok(())
}

fn color(field: &str, c: [f32; 3], max: f32) -> Result<(), SceneError> {
    for (i, v) in c.iter().enumerate() {
        range_f32(&format!("{field}[{i}]"), *v, 0.0, max)?;
    }
    Ok(())
}

fn finite(field: &str, v: [f32; 3]) -> Result<V3, SceneError> {
    let v3 = V3::from_array(v);
    if !v3.is_finite_within(limits::MAX_COORD) {
        return Err(SceneError::NotFinite {
            field: field.into(),
            max_abs: limits::MAX_COORD as f64,
        });
    }
    Ok(v3)
}

fn material_index(field: String, m: u32, count: usize) -> Result<(), SceneError> {
    if m as usize >= count {
        return Err(SceneError::BadIndex {
            field,
            what: "material",
            index: m as usize,
            count,
        });
    }
    Ok(())
}

impl Scene {
    /// Parses and validates a scene from JSON bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Scene, SceneError> {
        let scene = Scene::from_json_unvalidated(bytes)?;
        scene.validate()?;
        Ok(scene)
    }

    /// Parses a scene from JSON bytes (size limit and syntax only).
    pub(crate) fn from_json_unvalidated(bytes: &[u8]) -> Result<Scene, SceneError> {
        if bytes.len() > limits::MAX_SCENE_BYTES {
            return Err(SceneError::TooLarge {
                bytes: bytes.len(),
                max: limits::MAX_SCENE_BYTES,
            });
        }
        serde_json::from_slice(bytes).map_err(|e| SceneError::Json(e.to_string()))
    }

    /// Number of tiles across and down.
    pub fn tile_grid(&self) -> (u32, u32) {
        (
            self.width.div_ceil(self.tile_size),
            self.height.div_ceil(self.tile_size),
        )
    }

    /// Number of output chunks (tiles).
    pub fn chunk_count(&self) -> u32 {
        let (tx, ty) = self.tile_grid();
        tx * ty
    }

    /// Upper bound of the rays traced: width × height × samples × max_bounces.
    pub fn ray_budget(&self) -> u128 {
        self.width as u128
            * self.height as u128
            * self.samples_per_pixel as u128
            * self.max_bounces as u128
    }

    /// Checks every limit and every reference. Meshes given as OBJ are parsed here too.
    pub fn validate(&self) -> Result<(), SceneError> {
        range_u32("width", self.width, 1, limits::MAX_IMAGE_SIDE)?;
        range_u32("height", self.height, 1, limits::MAX_IMAGE_SIDE)?;
        range_u32(
            "samples_per_pixel",
            self.samples_per_pixel,
            1,
            limits::MAX_SAMPLES,
        )?;
        range_u32("max_bounces", self.max_bounces, 1, limits::MAX_BOUNCES)?;
        range_u32(
            "tile_size",
            self.tile_size,
            limits::MIN_TILE_SIZE,
            limits::MAX_TILE_SIZE,
        )?;
        if self.ray_budget() > limits::MAX_RENDER_RAYS {
            return Err(SceneError::TooMuchWork {
                rays: self.ray_budget(),
                max: limits::MAX_RENDER_RAYS,
            });
        }

        let cam = &self.camera;
        let from = finite("camera.look_from", cam.look_from)?;
        let at = finite("camera.look_at", cam.look_at)?;
        let vup = finite("camera.vup", cam.vup)?;
        range_f32("camera.vfov", cam.vfov, 1.0, 179.0)?;
        let w = from - at;
        if w.length_squared() < 1e-12 {
            return Err(SceneError::Degenerate(
                "camera.look_from and camera.look_at must differ".into(),
            ));
        }
        let u = vup.cross(w.unit());
        if !(u.length_squared() > 1e-12) {
            return Err(SceneError::Degenerate(
                "camera.vup must not be zero nor parallel to the viewing direction".into(),
            ));
        }
        color("sky.top", self.sky.top, limits::MAX_EMISSION)?;
        color("sky.bottom", self.sky.bottom, limits::MAX_EMISSION)?;

        if self.materials.is_empty() {
            return Err(SceneError::Degenerate(
                "the scene needs at least one material".into(),
            ));
        }
        at_most("materials", self.materials.len(), limits::MAX_MATERIALS)?;
        for (i, m) in self.materials.iter().enumerate() {
            let f = format!("materials[{i}]");
            match m {
                Material::Diffuse { albedo } => color(&format!("{f}.albedo"), *albedo, 1.0)?,
                Material::Metal { albedo, fuzz } => {
                    color(&format!("{f}.albedo"), *albedo, 1.0)?;
                    range_f32(&format!("{f}.fuzz"), *fuzz, 0.0, 1.0)?;
                }
                Material::Glass { ior, tint } => {
                    range_f32(&format!("{f}.ior"), *ior, 1.0, 4.0)?;
                    color(&format!("{f}.tint"), *tint, 1.0)?;
                }
                Material::Emissive { emit } => {
                    color(&format!("{f}.emit"), *emit, limits::MAX_EMISSION)?
                }
            }
        }
        let nm = self.materials.len();

        at_most("spheres", self.spheres.len(), limits::MAX_SPHERES)?;
        for (i, s) in self.spheres.iter().enumerate() {
            finite(&format!("spheres[{i}].center"), s.center)?;
            if !(s.radius > 0.0 && s.radius <= limits::MAX_COORD) {
                return Err(SceneError::OutOfRange {
                    field: format!("spheres[{i}].radius"),
                    value: s.radius as f64,
                    min: 0.0,
                    max: limits::MAX_COORD as f64,
                });
            }
            material_index(format!("spheres[{i}].material"), s.material, nm)?;
        }

        at_most("planes", self.planes.len(), limits::MAX_PLANES)?;
        for (i, p) in self.planes.iter().enumerate() {
            finite(&format!("planes[{i}].point"), p.point)?;
            let n = finite(&format!("planes[{i}].normal"), p.normal)?;
            if !(n.length_squared() > 1e-12) {
                return Err(SceneError::Degenerate(format!(
                    "planes[{i}].normal must not be zero"
                )));
            }
            material_index(format!("planes[{i}].material"), p.material, nm)?;
        }

        at_most("meshes", self.meshes.len(), limits::MAX_MESHES)?;
        let mut triangles = 0usize;
        let mut vertices = 0usize;
        for (i, m) in self.meshes.iter().enumerate() {
            let (nv, nt) = m.check(i)?;
            material_index(format!("meshes[{i}].material"), m.material, nm)?;
            vertices += nv;
            triangles += nt;
            at_most("vertices", vertices, limits::MAX_VERTICES)?;
            at_most("triangles", triangles, limits::MAX_TRIANGLES)?;
        }
        Ok(())
    }
}

impl Mesh {
    /// Checks the mesh and returns its vertex and triangle counts.
    fn check(&self, i: usize) -> Result<(usize, usize), SceneError> {
        finite(&format!("meshes[{i}].scale"), self.scale)?;
        finite(&format!("meshes[{i}].translate"), self.translate)?;
        match &self.obj {
            Some(text) => {
                if !self.vertices.is_empty() || !self.triangles.is_empty() {
                    return Err(SceneError::Degenerate(format!(
                        "meshes[{i}] gives both `obj` and inline `vertices`/`triangles`"
                    )));
                }
                let m = obj::parse_obj(text, i)?;
                self.check_transformed(i, &m.vertices)?;
                Ok((m.vertices.len(), m.triangles.len()))
            }
            None => {
                at_most("vertices", self.vertices.len(), limits::MAX_VERTICES)?;
                for (j, v) in self.vertices.iter().enumerate() {
                    finite(&format!("meshes[{i}].vertices[{j}]"), *v)?;
                }
                for (j, t) in self.triangles.iter().enumerate() {
                    for &idx in t {
                        if idx as usize >= self.vertices.len() {
                            return Err(SceneError::BadIndex {
                                field: format!("meshes[{i}].triangles[{j}]"),
                                what: "vertex",
                                index: idx as usize,
                                count: self.vertices.len(),
                            });
                        }
                    }
                }
                self.check_transformed(i, &self.vertices)?;
                Ok((self.vertices.len(), self.triangles.len()))
            }
        }
    }

    fn check_transformed(&self, i: usize, vertices: &[[f32; 3]]) -> Result<(), SceneError> {
        for (j, v) in vertices.iter().enumerate() {
            let t = self.transform(*v);
            if !t.is_finite_within(limits::MAX_COORD) {
                return Err(SceneError::NotFinite {
                    field: format!("meshes[{i}] vertex {j} after scale and translate"),
                    max_abs: limits::MAX_COORD as f64,
                });
            }
        }
        Ok(())
    }

    /// `v * scale + translate`, component-wise.
    pub(crate) fn transform(&self, v: [f32; 3]) -> V3 {
        V3::from_array(v).hadamard(V3::from_array(self.scale)) + V3::from_array(self.translate)
    }

    /// The mesh's vertices (after transform) and triangles.
    pub(crate) fn resolve(&self, i: usize) -> Result<(Vec<V3>, Vec<[u32; 3]>), SceneError> {
        let (verts, tris) = match &self.obj {
            Some(text) => {
                let m = obj::parse_obj(text, i)?;
                (m.vertices, m.triangles)
            }
            None => (self.vertices.clone(), self.triangles.clone()),
        };
        Ok((verts.iter().map(|v| self.transform(*v)).collect(), tris))
    }
}
