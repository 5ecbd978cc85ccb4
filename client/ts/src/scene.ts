// The render kernel's scene format (docs/kernels.md) checked in the client, as the kernel's own
// parser checks it (kernels/src/render/scene.rs and obj.rs: the limits, ranges and references a
// worker checks before it claims a job). client/fixtures/web.json holds scene files with the
// Rust parser's verdict on each; the tests require the same verdict and chunk count here, so a
// page refuses a scene before anything is uploaded or signed, and posts the chunk count the
// workers will compute.

/** The kernel's limits (kernels/src/limits.rs). */
export const SCENE_LIMITS = {
  maxSceneBytes: 64 << 20,
  maxObjBytes: 32 << 20,
  maxImageSide: 8192,
  maxSamples: 65_536,
  maxBounces: 64,
  minTileSize: 8,
  maxTileSize: 1024,
  maxMaterials: 1024,
  maxSpheres: 1024,
  maxPlanes: 64,
  maxMeshes: 256,
  maxTriangles: 1 << 20,
  maxVertices: 1 << 21,
  maxCoord: 1.0e6,
  maxEmission: 1.0e4,
  maxRenderRays: 1n << 40n,
} as const;

/** A checked scene: what a page shows about it and what the job posts. */
export interface SceneSummary {
  width: number;
  height: number;
  samplesPerPixel: number;
  maxBounces: number;
  tileSize: number;
  /** Tiles: the job's `chunk_count`. */
  chunkCount: number;
  /** Upper bound of the rays traced: width × height × samples × bounces. */
  rays: bigint;
  triangles: number;
}

export type SceneCheck = { ok: true; scene: SceneSummary } | { ok: false; error: string };

class SceneError extends Error {}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };
type V3 = [number, number, number];
type Material =
  | { kind: 'diffuse'; albedo: V3 }
  | { kind: 'metal'; albedo: V3; fuzz: number }
  | { kind: 'glass'; ior: number; tint: V3 }
  | { kind: 'emissive'; emit: V3 };

const f = Math.fround;

function fail(message: string): never {
  throw new SceneError(message);
}

function isObj(v: Json | undefined): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fields(v: Json | undefined, where: string, allowed: readonly string[], required: readonly string[]): Obj {
  if (!isObj(v)) fail(`${where} must be a JSON object`);
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) fail(`${where} has an unknown field "${k}" (expected one of ${allowed.join(', ')})`);
  }
  for (const k of required) if (!(k in v)) fail(`${where} is missing the field "${k}"`);
  return v;
}

function uint(v: Json | undefined, field: string, bits: 32 | 64, fallback?: number): number {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > (bits === 32 ? 0xffff_ffff : 2 ** 64)) {
    fail(`${field} must be a whole number from 0 to ${bits === 32 ? '4294967295' : '2^64 − 1'}`);
  }
  return v;
}

function num(v: Json | undefined, field: string, fallback?: number): number {
  if (v === undefined && fallback !== undefined) return f(fallback);
  if (typeof v !== 'number') fail(`${field} must be a number`);
  return f(v);
}

function vec3(v: Json | undefined, field: string, fallback?: V3): V3 {
  if (v === undefined && fallback) return fallback.map(f) as V3;
  if (!Array.isArray(v) || v.length !== 3 || v.some((x) => typeof x !== 'number')) {
    fail(`${field} must be an array of 3 numbers`);
  }
  return (v as number[]).map(f) as V3;
}

function range(field: string, v: number, min: number, max: number): void {
  // Written so that NaN fails.
  if (!(v >= min && v <= max)) fail(`${field} is ${v}, outside the allowed range ${min}..=${max}`);
}

function finite(field: string, v: V3): V3 {
  if (!v.every((x) => Number.isFinite(x) && Math.abs(x) <= SCENE_LIMITS.maxCoord)) {
    fail(`${field} must be a finite number within ±${SCENE_LIMITS.maxCoord}`);
  }
  return v;
}

function color(field: string, c: V3, max: number): void {
  c.forEach((v, i) => range(`${field}[${i}]`, v, 0, max));
}

function atMost(what: string, count: number, max: number): void {
  if (count > max) fail(`the scene has ${count} ${what}, more than the limit of ${max}`);
}

function materialIndex(field: string, m: number, count: number): void {
  if (m >= count) fail(`${field} refers to material ${m}, but the scene has only ${count}`);
}

const sub = (a: V3, b: V3): V3 => [f(a[0] - b[0]), f(a[1] - b[1]), f(a[2] - b[2])];
const lengthSquared = (a: V3): number => f(f(f(a[0] * a[0]) + f(a[1] * a[1])) + f(a[2] * a[2]));
const cross = (a: V3, b: V3): V3 => [
  f(f(a[1] * b[2]) - f(a[2] * b[1])),
  f(f(a[2] * b[0]) - f(a[0] * b[2])),
  f(f(a[0] * b[1]) - f(a[1] * b[0])),
];
const unit = (a: V3): V3 => {
  const len = f(Math.sqrt(lengthSquared(a)));
  return [f(a[0] / len), f(a[1] / len), f(a[2] / len)];
};

/** Parses the OBJ subset the renderer reads (obj.rs): returns vertex and triangle counts and
 * the vertices. */
function parseObj(text: string, mesh: number): { vertices: V3[]; triangles: number } {
  if (new TextEncoder().encode(text).length > SCENE_LIMITS.maxObjBytes) {
    fail(`mesh ${mesh}'s OBJ text is larger than ${SCENE_LIMITS.maxObjBytes} bytes`);
  }
  const vertices: V3[] = [];
  let triangles = 0;
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const err = (reason: string): never => fail(`mesh ${mesh}, OBJ line ${i + 1}: ${reason}`);
    const line = raw.replace(/\r$/, '').split('#')[0];
    const words = line.split(/\s+/).filter((w) => w.length > 0);
    if (words.length === 0) return;
    const [keyword, ...rest] = words;
    const number = (w: string): number => {
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(w) && !/^[+-]?(inf|infinity|nan)$/i.test(w)) {
        err(`\`${w}\` is not a number`);
      }
      return f(Number(w.replace(/^([+-]?)inf$/i, '$1Infinity')));
    };
    switch (keyword) {
      case 'v': {
        if (rest.length < 3) err('a vertex needs three coordinates');
        const xyz = rest.slice(0, 3).map((w) => {
          const v = number(w);
          if (!Number.isFinite(v) || Math.abs(v) > SCENE_LIMITS.maxCoord) {
            err(`coordinate ${w} is not finite or beyond ±${SCENE_LIMITS.maxCoord}`);
          }
          return v;
        }) as V3;
        if (rest.length >= 4) number(rest[3]);
        if (rest.length > 4) err('a vertex has at most four coordinates');
        atMost('vertices', vertices.length + 1, SCENE_LIMITS.maxVertices);
        vertices.push(xyz);
        break;
      }
      case 'f': {
        if (rest.length > 4) err('only triangles and quads are supported');
        for (const w of rest) {
          const idx = w.split('/')[0];
          if (!/^[+-]?\d+$/.test(idx)) err(`\`${w}\` is not a vertex index`);
          const v = Number(idx);
          const count = vertices.length;
          if (v === 0) err('vertex index 0 does not exist (OBJ counts from 1)');
          const resolved = v > 0 ? v - 1 : count + v;
          if (resolved < 0 || resolved >= count) {
            err(`vertex index ${v} refers past the ${count} vertices defined so far`);
          }
        }
        if (rest.length !== 3 && rest.length !== 4) err('a face needs 3 or 4 vertices');
        triangles += rest.length - 2;
        atMost('triangles', triangles, SCENE_LIMITS.maxTriangles);
        break;
      }
      case 'vn':
      case 'vt':
      case 'vp':
      case 'o':
      case 'g':
      case 's':
      case 'usemtl':
      case 'mtllib':
      case 'l':
        break;
      default:
        err(`unsupported statement \`${[...keyword].slice(0, 16).join('')}\``);
    }
  });
  return { vertices, triangles };
}

const SCENE_FIELDS = [
  'width', 'height', 'samples_per_pixel', 'max_bounces', 'seed', 'tile_size',
  'camera', 'sky', 'materials', 'spheres', 'planes', 'meshes',
] as const;
const MATERIAL_FIELDS: Record<string, readonly string[]> = {
  diffuse: ['albedo'],
  metal: ['albedo', 'fuzz'],
  glass: ['ior', 'tint'],
  emissive: ['emit'],
};

function list(v: Json | undefined, field: string): Json[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(`${field} must be an array`);
  return v;
}

function check(text: string): SceneSummary {
  let parsed: Json;
  try {
    parsed = JSON.parse(text) as Json;
  } catch (e) {
    fail(`the scene is not valid JSON: ${(e as Error).message}`);
  }
  const s = fields(parsed, 'the scene', SCENE_FIELDS, ['width', 'height', 'samples_per_pixel', 'camera', 'materials']);
  const width = uint(s.width, 'width', 32);
  const height = uint(s.height, 'height', 32);
  const samplesPerPixel = uint(s.samples_per_pixel, 'samples_per_pixel', 32);
  const maxBounces = uint(s.max_bounces, 'max_bounces', 32, 8);
  uint(s.seed, 'seed', 64, 0);
  const tileSize = uint(s.tile_size, 'tile_size', 32, 32);
  const cam = fields(s.camera, 'camera', ['look_from', 'look_at', 'vup', 'vfov'], ['look_from', 'look_at', 'vfov']);
  const lookFrom = vec3(cam.look_from, 'camera.look_from');
  const lookAt = vec3(cam.look_at, 'camera.look_at');
  const vup = vec3(cam.vup, 'camera.vup', [0, 1, 0]);
  const vfov = num(cam.vfov, 'camera.vfov');
  let sky: { top: V3; bottom: V3 } = { top: [0.5, 0.7, 1.0].map(f) as V3, bottom: [1, 1, 1] };
  if (s.sky !== undefined) {
    const k = fields(s.sky, 'sky', ['top', 'bottom'], ['top', 'bottom']);
    sky = { top: vec3(k.top, 'sky.top'), bottom: vec3(k.bottom, 'sky.bottom') };
  }
  if (!Array.isArray(s.materials)) fail('materials must be an array');
  const materials = s.materials.map((m, i): Material => {
    const where = `materials[${i}]`;
    const all = fields(m, where, ['type', 'albedo', 'fuzz', 'ior', 'tint', 'emit'], ['type']);
    const kind = all.type;
    if (typeof kind !== 'string' || !(kind in MATERIAL_FIELDS)) {
      fail(`${where}.type is ${JSON.stringify(kind)}; a material is one of diffuse, metal, glass, emissive`);
    }
    const allowed = MATERIAL_FIELDS[kind];
    for (const k of Object.keys(all)) {
      if (k !== 'type' && !allowed.includes(k)) fail(`${where} (${kind}) has an unknown field "${k}" (expected ${allowed.join(', ')})`);
    }
    const need = (k: string): V3 => {
      if (all[k] === undefined) fail(`${where} (${kind}) is missing the field "${k}"`);
      return vec3(all[k], `${where}.${k}`);
    };
    switch (kind) {
      case 'diffuse':
        return { kind, albedo: need('albedo') };
      case 'metal':
        return { kind, albedo: need('albedo'), fuzz: num(all.fuzz, `${where}.fuzz`, 0) };
      case 'glass':
        if (all.ior === undefined) fail(`${where} (glass) is missing the field "ior"`);
        return { kind, ior: num(all.ior, `${where}.ior`), tint: vec3(all.tint, `${where}.tint`, [1, 1, 1]) };
      default:
        return { kind: 'emissive', emit: need('emit') };
    }
  });
  const spheres = list(s.spheres, 'spheres').map((v, i) => {
    const o = fields(v, `spheres[${i}]`, ['center', 'radius', 'material'], ['center', 'radius', 'material']);
    return {
      center: vec3(o.center, `spheres[${i}].center`),
      radius: num(o.radius, `spheres[${i}].radius`),
      material: uint(o.material, `spheres[${i}].material`, 32),
    };
  });
  const planes = list(s.planes, 'planes').map((v, i) => {
    const o = fields(v, `planes[${i}]`, ['point', 'normal', 'material'], ['point', 'normal', 'material']);
    return {
      point: vec3(o.point, `planes[${i}].point`),
      normal: vec3(o.normal, `planes[${i}].normal`),
      material: uint(o.material, `planes[${i}].material`, 32),
    };
  });
  const meshes = list(s.meshes, 'meshes').map((v, i) => {
    const o = fields(v, `meshes[${i}]`, ['vertices', 'triangles', 'obj', 'scale', 'translate', 'material'], ['material']);
    const triangles = list(o.triangles, `meshes[${i}].triangles`).map((t, j) => {
      if (!Array.isArray(t) || t.length !== 3) fail(`meshes[${i}].triangles[${j}] must be 3 vertex indices`);
      return t.map((x) => uint(x, `meshes[${i}].triangles[${j}]`, 32));
    });
    if (o.obj !== undefined && o.obj !== null && typeof o.obj !== 'string') fail(`meshes[${i}].obj must be OBJ text`);
    return {
      vertices: list(o.vertices, `meshes[${i}].vertices`).map((x, j) => vec3(x, `meshes[${i}].vertices[${j}]`)),
      triangles,
      obj: typeof o.obj === 'string' ? o.obj : undefined,
      scale: vec3(o.scale, `meshes[${i}].scale`, [1, 1, 1]),
      translate: vec3(o.translate, `meshes[${i}].translate`, [0, 0, 0]),
      material: uint(o.material, `meshes[${i}].material`, 32),
    };
  });

  // Scene::validate, in its order.
  const L = SCENE_LIMITS;
  range('width', width, 1, L.maxImageSide);
  range('height', height, 1, L.maxImageSide);
  range('samples_per_pixel', samplesPerPixel, 1, L.maxSamples);
  range('max_bounces', maxBounces, 1, L.maxBounces);
  range('tile_size', tileSize, L.minTileSize, L.maxTileSize);
  const rays = BigInt(width) * BigInt(height) * BigInt(samplesPerPixel) * BigInt(maxBounces);
  if (rays > L.maxRenderRays) fail(`the scene would trace about ${rays} rays, more than the limit of ${L.maxRenderRays}`);
  const from = finite('camera.look_from', lookFrom);
  const at = finite('camera.look_at', lookAt);
  const up = finite('camera.vup', vup);
  range('camera.vfov', vfov, 1, 179);
  const w = sub(from, at);
  if (lengthSquared(w) < 1e-12) fail('camera.look_from and camera.look_at must differ');
  if (!(lengthSquared(cross(up, unit(w))) > 1e-12)) {
    fail('camera.vup must not be zero nor parallel to the viewing direction');
  }
  color('sky.top', sky.top, L.maxEmission);
  color('sky.bottom', sky.bottom, L.maxEmission);
  if (materials.length === 0) fail('the scene needs at least one material');
  atMost('materials', materials.length, L.maxMaterials);
  materials.forEach((m, i) => {
    const at = `materials[${i}]`;
    if (m.kind === 'diffuse') color(`${at}.albedo`, m.albedo, 1);
    else if (m.kind === 'metal') {
      color(`${at}.albedo`, m.albedo, 1);
      range(`${at}.fuzz`, m.fuzz, 0, 1);
    } else if (m.kind === 'glass') {
      range(`${at}.ior`, m.ior, 1, 4);
      color(`${at}.tint`, m.tint, 1);
    } else color(`${at}.emit`, m.emit, L.maxEmission);
  });
  const nm = materials.length;
  atMost('spheres', spheres.length, L.maxSpheres);
  spheres.forEach((sp, i) => {
    finite(`spheres[${i}].center`, sp.center);
    if (!(sp.radius > 0 && sp.radius <= L.maxCoord)) fail(`spheres[${i}].radius is ${sp.radius}, outside the allowed range 0..=${L.maxCoord}`);
    materialIndex(`spheres[${i}].material`, sp.material, nm);
  });
  atMost('planes', planes.length, L.maxPlanes);
  planes.forEach((p, i) => {
    finite(`planes[${i}].point`, p.point);
    const n = finite(`planes[${i}].normal`, p.normal);
    if (!(lengthSquared(n) > 1e-12)) fail(`planes[${i}].normal must not be zero`);
    materialIndex(`planes[${i}].material`, p.material, nm);
  });
  atMost('meshes', meshes.length, L.maxMeshes);
  let vertices = 0;
  let triangles = 0;
  meshes.forEach((m, i) => {
    finite(`meshes[${i}].scale`, m.scale);
    finite(`meshes[${i}].translate`, m.translate);
    let verts: V3[];
    let tris: number;
    if (m.obj !== undefined) {
      if (m.vertices.length > 0 || m.triangles.length > 0) {
        fail(`meshes[${i}] gives both \`obj\` and inline \`vertices\`/\`triangles\``);
      }
      const parsed = parseObj(m.obj, i);
      verts = parsed.vertices;
      tris = parsed.triangles;
    } else {
      atMost('vertices', m.vertices.length, L.maxVertices);
      m.vertices.forEach((v, j) => finite(`meshes[${i}].vertices[${j}]`, v));
      m.triangles.forEach((t, j) => {
        for (const idx of t) {
          if (idx >= m.vertices.length) {
            fail(`meshes[${i}].triangles[${j}] refers to vertex ${idx}, but the scene has only ${m.vertices.length}`);
          }
        }
      });
      verts = m.vertices;
      tris = m.triangles.length;
    }
    verts.forEach((v, j) => {
      const t = v.map((x, k) => f(f(x * m.scale[k]) + m.translate[k])) as V3;
      if (!t.every((x) => Number.isFinite(x) && Math.abs(x) <= L.maxCoord)) {
        fail(`meshes[${i}] vertex ${j} after scale and translate must be a finite number within ±${L.maxCoord}`);
      }
    });
    materialIndex(`meshes[${i}].material`, m.material, nm);
    vertices += verts.length;
    triangles += tris;
    atMost('vertices', vertices, L.maxVertices);
    atMost('triangles', triangles, L.maxTriangles);
  });
  return {
    width,
    height,
    samplesPerPixel,
    maxBounces,
    tileSize,
    chunkCount: Math.ceil(width / tileSize) * Math.ceil(height / tileSize),
    rays,
    triangles,
  };
}

/**
 * Checks a scene file (its bytes or text) as the render kernel does: `{ ok: true, scene }`
 * with what the job posts (`chunkCount`), or `{ ok: false, error }`, a sentence naming the
 * field and the allowed range.
 */
export function checkScene(input: string | Uint8Array): SceneCheck {
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input).length : input.length;
  if (bytes > SCENE_LIMITS.maxSceneBytes) {
    return { ok: false, error: `the scene is ${bytes} bytes, more than the limit of ${SCENE_LIMITS.maxSceneBytes}` };
  }
  let text: string;
  try {
    text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    return { ok: false, error: 'the scene is not UTF-8 text (a scene is a JSON file)' };
  }
  try {
    return { ok: true, scene: check(text) };
  } catch (e) {
    if (e instanceof SceneError) return { ok: false, error: e.message };
    throw e;
  }
}
