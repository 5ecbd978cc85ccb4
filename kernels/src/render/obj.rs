//! The OBJ subset the renderer reads: `v x y z` vertices and `f` faces of 3 or 4 corners
//! (quads are split into two triangles along the 1–3 diagonal). Face corners may be written
//! `i`, `i/t`, `i//n` or `i/t/n`; only the vertex index is used. Negative indices count back
//! from the last vertex defined so far. `#` comments and the statements `vn vt o g s usemtl
//! mtllib l` are ignored; anything else is an error.

use super::scene::at_most;
use crate::error::SceneError;
use crate::limits;

/// A mesh read from OBJ text: vertices and triangles (indices into `vertices`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ObjMesh {
    pub vertices: Vec<[f32; 3]>,
    pub triangles: Vec<[u32; 3]>,
}

/// Parses OBJ text. `mesh` is the index of the mesh in the scene, used in error messages.
pub fn parse_obj(text: &str, mesh: usize) -> Result<ObjMesh, SceneError> {
    if text.len() > limits::MAX_OBJ_BYTES {
        return Err(SceneError::TooLarge {
            bytes: text.len(),
            max: limits::MAX_OBJ_BYTES,
        });
    }
    let mut out = ObjMesh::default();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let err = |reason: String| SceneError::Obj {
            mesh,
            line: line_no,
            reason,
        };
        let line = match raw.find('#') {
            Some(p) => &raw[..p],
            None => raw,
        };
        let mut words = line.split_whitespace();
        let Some(keyword) = words.next() else {
            continue;
        };
        match keyword {
            "v" => {
                let mut xyz = [0f32; 3];
                for c in xyz.iter_mut() {
                    let w = words
                        .next()
                        .ok_or_else(|| err("a vertex needs three coordinates".into()))?;
                    let v: f32 = w
                        .parse()
                        .map_err(|_| err(format!("`{w}` is not a number")))?;
                    if !v.is_finite() || v.abs() > limits::MAX_COORD {
                        return Err(err(format!(
                            "coordinate {w} is not finite or beyond ±{}",
                            limits::MAX_COORD
                        )));
                    }
                    *c = v;
                }
                // An optional fourth (w) coordinate is allowed and ignored.
                if let Some(w) = words.next() {
                    w.parse::<f32>()
                        .map_err(|_| err(format!("`{w}` is not a number")))?;
                    if words.next().is_some() {
                        return Err(err("a vertex has at most four coordinates".into()));
                    }
                }
                at_most("vertices", out.vertices.len() + 1, limits::MAX_VERTICES)?;
                out.vertices.push(xyz);
            }
            "f" => {
                let mut corners = [0u32; 4];
                let mut n = 0;
                for w in words {
                    if n == 4 {
                        return Err(err("only triangles and quads are supported".into()));
                    }
                    let idx = w.split('/').next().unwrap_or("");
                    let v: i64 = idx
                        .parse()
                        .map_err(|_| err(format!("`{w}` is not a vertex index")))?;
                    let count = out.vertices.len() as i64;
                    let resolved = if v > 0 {
                        v - 1
                    } else if v < 0 {
                        count + v
                    } else {
                        return Err(err(
                            "vertex index 0 does not exist (OBJ counts from 1)".into()
                        ));
                    };
                    if resolved < 0 || resolved >= count {
                        return Err(err(format!(
                            "vertex index {v} refers past the {count} vertices defined so far"
                        )));
                    }
                    corners[n] = resolved as u32;
                    n += 1;
                }
                let tris: &[[u32; 3]] = match n {
                    3 => &[[corners[0], corners[1], corners[2]]],
                    4 => &[
                        [corners[0], corners[1], corners[2]],
                        [corners[0], corners[2], corners[3]],
                    ],
                    _ => return Err(err("a face needs 3 or 4 vertices".into())),
                };
                at_most(
                    "triangles",
                    out.triangles.len() + tris.len(),
                    limits::MAX_TRIANGLES,
                )?;
                out.triangles.extend_from_slice(tris);
            }
            "vn" | "vt" | "vp" | "o" | "g" | "s" | "usemtl" | "mtllib" | "l" => {}
            other => {
                let shown: String = other.chars().take(16).collect();
                return Err(err(format!("unsupported statement `{shown}`")));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_triangles_and_quads() {
        let m = parse_obj(
            "# a quad\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0 1\nvn 0 0 1\nf 1//1 2//1 3//1 4//1\nf -1 -2 -3\n",
            0,
        )
        .unwrap();
        assert_eq!(m.vertices.len(), 4);
        assert_eq!(m.triangles, vec![[0, 1, 2], [0, 2, 3], [3, 2, 1]]);
    }

    #[test]
    fn rejects_bad_lines() {
        for (src, needle) in [
            ("v 1 2\n", "three coordinates"),
            ("v 1 2 x\n", "not a number"),
            ("v 1 2 inf\n", "not finite"),
            ("v 0 0 0\nf 1 1\n", "3 or 4"),
            ("v 0 0 0\nf 1 1 1 1 1\n", "triangles and quads"),
            ("v 0 0 0\nf 1 2 1\n", "refers past"),
            ("v 0 0 0\nf 0 1 1\n", "index 0"),
            ("curv 1 2\n", "unsupported"),
        ] {
            let e = parse_obj(src, 3).unwrap_err().to_string();
            assert!(e.contains(needle), "{src:?}: {e}");
            assert!(e.starts_with("mesh 3, OBJ line"), "{e}");
        }
    }
}
