// Tessera render kernel: the path tracer of src/render/trace.rs, operation for operation.
//
// Determinism rules (docs/kernels.md): compiled by NVRTC with --fmad=false --prec-div=true
// --prec-sqrt=true (and the default --ftz=false); f32 only (every literal has the `f` suffix);
// only + - * / sqrtf fabsf and comparisons; min/max written as comparisons; no atomics; the
// random numbers are a PCG hash of (seed, pixel, sample, bounce). Change this file and
// trace.rs together.

typedef unsigned int u32;

// Layouts: src/render/prepared.rs.
struct Material {
    u32 kind;
    float albedo[3];
    float emit[3];
    float fuzz;
    float ior;
    u32 pad[3];
};

struct Sphere {
    float center[3];
    float radius;
    u32 material;
    u32 pad[3];
};

struct Plane {
    float point[3];
    u32 material;
    float normal[3];
    u32 pad;
};

struct Triangle {
    float v0[3];
    u32 material;
    float e1[3];
    u32 pad0;
    float e2[3];
    u32 pad1;
    float normal[3];
    u32 pad2;
};

struct BvhNode {
    float bmin[3];
    u32 first;
    float bmax[3];
    u32 count;
};

struct RenderParams {
    u32 width, height, samples, max_bounces;
    u32 seed_lo, seed_hi;
    u32 n_spheres, n_planes, n_triangles, n_nodes;
    u32 rect_x, rect_y, rect_w, rect_h;
    u32 pad[2];
    float origin[3];
    float pad0;
    float lower_left[3];
    float pad1;
    float horizontal[3];
    float pad2;
    float vertical[3];
    float pad3;
    float sky_top[3];
    float pad4;
    float sky_bottom[3];
    float pad5;
};

#define MAT_DIFFUSE 0u
#define MAT_METAL 1u
#define MAT_GLASS 2u
#define MAT_EMISSIVE 3u

#define HIT_NONE 0u
#define HIT_SPHERE 1u
#define HIT_PLANE 2u
#define HIT_TRIANGLE 3u

#define BVH_STACK 64
#define T_MIN 1.0e-3f
#define T_MAX 1.0e30f

struct V3 {
    float x, y, z;
};

__device__ __forceinline__ V3 v3(float x, float y, float z) {
    V3 r;
    r.x = x;
    r.y = y;
    r.z = z;
    return r;
}
__device__ __forceinline__ V3 v3a(const float* a) { return v3(a[0], a[1], a[2]); }
__device__ __forceinline__ V3 add(V3 a, V3 b) { return v3(a.x + b.x, a.y + b.y, a.z + b.z); }
__device__ __forceinline__ V3 sub(V3 a, V3 b) { return v3(a.x - b.x, a.y - b.y, a.z - b.z); }
__device__ __forceinline__ V3 mul(V3 a, float s) { return v3(a.x * s, a.y * s, a.z * s); }
__device__ __forceinline__ V3 neg(V3 a) { return v3(-a.x, -a.y, -a.z); }
__device__ __forceinline__ V3 hadamard(V3 a, V3 b) { return v3(a.x * b.x, a.y * b.y, a.z * b.z); }
__device__ __forceinline__ V3 vdiv(V3 a, float s) { return v3(a.x / s, a.y / s, a.z / s); }
__device__ __forceinline__ float dot(V3 a, V3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
__device__ __forceinline__ V3 cross(V3 a, V3 b) {
    return v3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x);
}
__device__ __forceinline__ V3 unit(V3 a) {
    float l = sqrtf(dot(a, a));
    return v3(a.x / l, a.y / l, a.z / l);
}
__device__ __forceinline__ float fmin_(float a, float b) { return a < b ? a : b; }
__device__ __forceinline__ float fmax_(float a, float b) { return a > b ? a : b; }

__device__ __forceinline__ u32 pcg_hash(u32 x) {
    u32 state = x * 747796405u + 2891336453u;
    u32 word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

struct Rng {
    u32 state;
};

__device__ __forceinline__ Rng rng_new(u32 key, u32 sample, u32 bounce) {
    Rng r;
    r.state = pcg_hash(pcg_hash(key ^ sample) ^ bounce);
    return r;
}

__device__ __forceinline__ u32 rng_u32(Rng* r) {
    r->state = r->state * 747796405u + 2891336453u;
    u32 s = r->state;
    u32 word = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
    return (word >> 22u) ^ word;
}

__device__ __forceinline__ float rng_f32(Rng* r) {
    return (float)(rng_u32(r) >> 8u) * (1.0f / 16777216.0f);
}

__device__ __forceinline__ V3 random_unit_vector(Rng* rng) {
    for (int i = 0; i < 32; ++i) {
        // Three separate statements: C leaves the evaluation order of function arguments
        // unspecified, Rust evaluates them left to right.
        float a = 2.0f * rng_f32(rng) - 1.0f;
        float b = 2.0f * rng_f32(rng) - 1.0f;
        float c = 2.0f * rng_f32(rng) - 1.0f;
        V3 p = v3(a, b, c);
        float l2 = dot(p, p);
        if (l2 > 1.0e-12f && l2 <= 1.0f) {
            return vdiv(p, sqrtf(l2));
        }
    }
    return v3(0.0f, 0.0f, 1.0f);
}

__device__ __forceinline__ V3 reflect(V3 v, V3 n) {
    float k = 2.0f * dot(v, n);
    return sub(v, mul(n, k));
}

__device__ __forceinline__ V3 refract(V3 uv, V3 n, float eta) {
    float cos_t = fmin_(dot(neg(uv), n), 1.0f);
    V3 r_perp = mul(add(uv, mul(n, cos_t)), eta);
    float k = -sqrtf(fabsf(1.0f - dot(r_perp, r_perp)));
    return add(r_perp, mul(n, k));
}

__device__ __forceinline__ float schlick(float cosine, float ratio) {
    float r0 = (1.0f - ratio) / (1.0f + ratio);
    r0 = r0 * r0;
    float m = 1.0f - cosine;
    return r0 + (1.0f - r0) * (m * m * m * m * m);
}

__device__ __forceinline__ bool hit_aabb(const BvhNode& node, V3 o, V3 inv, float closest) {
    float tx0 = (node.bmin[0] - o.x) * inv.x;
    float tx1 = (node.bmax[0] - o.x) * inv.x;
    float tmin = fmin_(tx0, tx1);
    float tmax = fmax_(tx0, tx1);
    float ty0 = (node.bmin[1] - o.y) * inv.y;
    float ty1 = (node.bmax[1] - o.y) * inv.y;
    tmin = fmax_(tmin, fmin_(ty0, ty1));
    tmax = fmin_(tmax, fmax_(ty0, ty1));
    float tz0 = (node.bmin[2] - o.z) * inv.z;
    float tz1 = (node.bmax[2] - o.z) * inv.z;
    tmin = fmax_(tmin, fmin_(tz0, tz1));
    tmax = fmin_(tmax, fmax_(tz0, tz1));
    return tmax >= tmin && tmax > T_MIN && tmin < closest;
}

struct Scene {
    const Material* materials;
    const Sphere* spheres;
    const Plane* planes;
    const Triangle* triangles;
    const BvhNode* nodes;
};

__device__ __forceinline__ void intersect(const RenderParams& p, const Scene& s, V3 o, V3 d,
                                          u32* kind_out, u32* index_out, float* t_out) {
    float closest = T_MAX;
    u32 kind = HIT_NONE;
    u32 index = 0u;

    for (u32 i = 0; i < p.n_spheres; ++i) {
        const Sphere& sp = s.spheres[i];
        V3 c = v3a(sp.center);
        V3 oc = sub(o, c);
        float a = dot(d, d);
        float half_b = dot(oc, d);
        float cc = dot(oc, oc) - sp.radius * sp.radius;
        float disc = half_b * half_b - a * cc;
        if (disc < 0.0f) {
            continue;
        }
        float sq = sqrtf(disc);
        float root = (-half_b - sq) / a;
        if (!(root > T_MIN && root < closest)) {
            root = (-half_b + sq) / a;
            if (!(root > T_MIN && root < closest)) {
                continue;
            }
        }
        closest = root;
        kind = HIT_SPHERE;
        index = i;
    }

    for (u32 i = 0; i < p.n_planes; ++i) {
        const Plane& pl = s.planes[i];
        V3 n = v3a(pl.normal);
        float denom = dot(n, d);
        if (fabsf(denom) < 1.0e-8f) {
            continue;
        }
        float t = dot(sub(v3a(pl.point), o), n) / denom;
        if (t > T_MIN && t < closest) {
            closest = t;
            kind = HIT_PLANE;
            index = i;
        }
    }

    if (p.n_nodes > 0u) {
        V3 inv = v3(1.0f / d.x, 1.0f / d.y, 1.0f / d.z);
        u32 stack[BVH_STACK];
        stack[0] = 0u;
        int sp = 1;
        while (sp > 0) {
            sp -= 1;
            const BvhNode& node = s.nodes[stack[sp]];
            if (!hit_aabb(node, o, inv, closest)) {
                continue;
            }
            if (node.count > 0u) {
                for (u32 ti = node.first; ti < node.first + node.count; ++ti) {
                    const Triangle& tr = s.triangles[ti];
                    V3 e1 = v3a(tr.e1);
                    V3 e2 = v3a(tr.e2);
                    V3 pvec = cross(d, e2);
                    float det = dot(e1, pvec);
                    if (det == 0.0f) {
                        continue;
                    }
                    float inv_det = 1.0f / det;
                    V3 sv = sub(o, v3a(tr.v0));
                    float u = dot(sv, pvec) * inv_det;
                    if (u < 0.0f || u > 1.0f) {
                        continue;
                    }
                    V3 q = cross(sv, e1);
                    float v = dot(d, q) * inv_det;
                    if (v < 0.0f || u + v > 1.0f) {
                        continue;
                    }
                    float t = dot(e2, q) * inv_det;
                    if (t > T_MIN && t < closest) {
                        closest = t;
                        kind = HIT_TRIANGLE;
                        index = ti;
                    }
                }
            } else if (sp + 2 <= BVH_STACK) {
                stack[sp] = node.first + 1u;
                stack[sp + 1] = node.first;
                sp += 2;
            }
        }
    }
    *kind_out = kind;
    *index_out = index;
    *t_out = closest;
}

__device__ __forceinline__ V3 sample(const RenderParams& p, const Scene& s, u32 key, u32 px,
                                     u32 py, u32 si) {
    Rng rng = rng_new(key, si, 0u);
    float rx = rng_f32(&rng);
    float ry = rng_f32(&rng);
    float u = ((float)px + rx) / (float)p.width;
    float v = ((float)(p.height - 1u - py) + ry) / (float)p.height;
    V3 dir = sub(add(add(v3a(p.lower_left), mul(v3a(p.horizontal), u)), mul(v3a(p.vertical), v)),
                 v3a(p.origin));
    V3 o = v3a(p.origin);
    V3 d = unit(dir);
    V3 throughput = v3(1.0f, 1.0f, 1.0f);
    V3 radiance = v3(0.0f, 0.0f, 0.0f);

    u32 bounce = 0u;
    while (bounce < p.max_bounces) {
        u32 kind, index;
        float t;
        intersect(p, s, o, d, &kind, &index, &t);
        if (kind == HIT_NONE) {
            float k = 0.5f * (d.y + 1.0f);
            V3 sky = add(mul(v3a(p.sky_bottom), 1.0f - k), mul(v3a(p.sky_top), k));
            radiance = add(radiance, hadamard(throughput, sky));
            break;
        }
        V3 hit = add(o, mul(d, t));
        V3 outward;
        u32 mat_index;
        if (kind == HIT_SPHERE) {
            const Sphere& sp = s.spheres[index];
            outward = vdiv(sub(hit, v3a(sp.center)), sp.radius);
            mat_index = sp.material;
        } else if (kind == HIT_PLANE) {
            const Plane& pl = s.planes[index];
            outward = v3a(pl.normal);
            mat_index = pl.material;
        } else {
            const Triangle& tr = s.triangles[index];
            outward = v3a(tr.normal);
            mat_index = tr.material;
        }
        const Material& m = s.materials[mat_index];
        if (m.kind == MAT_EMISSIVE) {
            radiance = add(radiance, hadamard(throughput, v3a(m.emit)));
            break;
        }
        bool front = dot(d, outward) < 0.0f;
        V3 n = front ? outward : neg(outward);
        Rng srng = rng_new(key, si, bounce + 1u);
        V3 next;
        if (m.kind == MAT_DIFFUSE) {
            V3 dir2 = add(n, random_unit_vector(&srng));
            if (fabsf(dir2.x) < 1.0e-8f && fabsf(dir2.y) < 1.0e-8f && fabsf(dir2.z) < 1.0e-8f) {
                dir2 = n;
            }
            next = dir2;
        } else if (m.kind == MAT_METAL) {
            V3 dir2 = add(reflect(d, n), mul(random_unit_vector(&srng), m.fuzz));
            if (!(dot(dir2, n) > 0.0f)) {
                break;
            }
            next = dir2;
        } else if (m.kind == MAT_GLASS) {
            float ratio = front ? 1.0f / m.ior : m.ior;
            float cos_t = fmin_(dot(neg(d), n), 1.0f);
            float sin_t = sqrtf(1.0f - cos_t * cos_t);
            bool cannot = ratio * sin_t > 1.0f;
            if (cannot || schlick(cos_t, ratio) > rng_f32(&srng)) {
                next = reflect(d, n);
            } else {
                next = refract(d, n, ratio);
            }
        } else {
            break;
        }
        throughput = hadamard(throughput, v3a(m.albedo));
        o = hit;
        d = unit(next);
        bounce += 1u;
    }
    return radiance;
}

__device__ __forceinline__ unsigned char to_byte(float c) {
    if (!(c > 0.0f)) {
        return 0;
    } else if (c >= 1.0f) {
        return 255;
    } else {
        return (unsigned char)(u32)(sqrtf(c) * 255.0f + 0.5f);
    }
}

// One thread per pixel of rows [row0, row0 + rows) of the rectangle p.rect_*, samples
// [s0, s1) of each; `out` holds the whole rectangle, RGBA8, row-major. A pixel's samples may be
// split over several launches (so that no launch runs long): then `acc` carries its running
// sum, 3 floats per pixel of the band, from one launch to the next. The sum is built in sample
// order from 0 either way, so the bytes are those of one launch over all samples.
extern "C" __global__ void render_rect(RenderParams p, const Material* materials,
                                       const Sphere* spheres, const Plane* planes,
                                       const Triangle* triangles, const BvhNode* nodes,
                                       unsigned char* out, u32 row0, u32 rows, u32 s0, u32 s1,
                                       float* acc) {
    u32 col = blockIdx.x * blockDim.x + threadIdx.x;
    u32 row = row0 + blockIdx.y * blockDim.y + threadIdx.y;
    if (col >= p.rect_w || row >= p.rect_h || row >= row0 + rows) {
        return;
    }
    Scene s;
    s.materials = materials;
    s.spheres = spheres;
    s.planes = planes;
    s.triangles = triangles;
    s.nodes = nodes;
    u32 px = p.rect_x + col;
    u32 py = p.rect_y + row;
    u32 key = pcg_hash(pcg_hash(p.seed_lo ^ pcg_hash(p.seed_hi)) ^ (py * p.width + px));
    unsigned long long a = ((unsigned long long)(row - row0) * p.rect_w + col) * 3ull;
    V3 sum = v3(0.0f, 0.0f, 0.0f);
    if (s0 > 0u) {
        sum = v3(acc[a + 0], acc[a + 1], acc[a + 2]);
    }
    for (u32 si = s0; si < s1; ++si) {
        sum = add(sum, sample(p, s, key, px, py, si));
    }
    if (s1 < p.samples) {
        acc[a + 0] = sum.x;
        acc[a + 1] = sum.y;
        acc[a + 2] = sum.z;
        return;
    }
    V3 mean = vdiv(sum, (float)p.samples);
    unsigned long long o = ((unsigned long long)row * p.rect_w + col) * 4ull;
    out[o + 0] = to_byte(mean.x);
    out[o + 1] = to_byte(mean.y);
    out[o + 2] = to_byte(mean.z);
    out[o + 3] = 255;
}
